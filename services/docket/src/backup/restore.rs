//! Restoring a snapshot into an empty data directory: every file is checked against the
//! manifest first, and nothing is written unless all are as recorded.

use std::path::{Path, PathBuf};

use anyhow::Context;
use docket_platform::{ServiceKind, Settings};

use super::manifest::Manifest;
use super::{BLOBS, RestoreArgs, SNAPSHOTS, files, sqlite};

pub async fn restore(settings: &Settings, args: RestoreArgs) -> anyhow::Result<()> {
    let manifest = restore_into(settings, &args.from, args.snapshot.as_deref())?;
    println!(
        "restored snapshot {} ({} files)",
        manifest.snapshot,
        manifest.files.len()
    );
    for database in &manifest.databases {
        if let Some(undelivered) = database.undelivered.filter(|n| *n > 0) {
            println!(
                "{}: {undelivered} deliveries to case management are sent again at start",
                database.service
            );
        }
    }
    for path in &manifest.added {
        println!(
            "checked, restore it yourself: {}",
            args.from.join(path).display()
        );
    }
    for line in &manifest.not_covered {
        println!("not covered by this backup: {line}");
    }
    Ok(())
}

/// Checks the snapshot `snapshot` (the latest when `None`) of `repository` and restores it
/// where `settings` keep the data; returns its manifest.
pub fn restore_into(
    settings: &Settings,
    repository: &Path,
    snapshot: Option<&str>,
) -> anyhow::Result<Manifest> {
    let name = match snapshot {
        Some(name) => name.to_owned(),
        None => latest(repository)?,
    };
    let manifest = Manifest::read(&repository.join(SNAPSHOTS).join(&name))?;
    let problems = manifest.check(repository);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::bail!(
            "refusing to restore snapshot {name}: {} of its files are not as its manifest \
             records; nothing was written:\n  {}",
            problems.len(),
            list.join("\n  ")
        );
    }

    // Where each file goes, all checked before the first is written.
    let mut placements: Vec<(PathBuf, PathBuf, String)> = Vec::new();
    for database in &manifest.databases {
        let kind = ServiceKind::ALL
            .into_iter()
            .find(|kind| kind.name() == database.service)
            .with_context(|| {
                format!(
                    "the manifest names an unknown service {:?}",
                    database.service
                )
            })?;
        let url = settings.database_url(kind);
        let target = sqlite::file_of(&url).with_context(|| {
            format!(
                "the {} database here is not SQLite; restore it with pg_restore \
                 (docs/OPERATIONS.md)",
                kind.name()
            )
        })?;
        for existing in [target.clone(), with_suffix(&target, "-wal")] {
            anyhow::ensure!(
                !existing.exists(),
                "{} exists: restore only into an empty data directory",
                existing.display()
            );
        }
        let sha256 = manifest
            .files
            .get(&database.file)
            .map(|entry| entry.sha256.clone())
            .with_context(|| format!("the manifest does not list {}", database.file))?;
        placements.push((repository.join(&database.file), target, sha256));
    }
    let blob_prefix = format!("{BLOBS}/");
    let blobs: Vec<(String, String)> = manifest
        .files
        .iter()
        .filter_map(|(path, entry)| {
            let relative = path.strip_prefix(&blob_prefix)?;
            Some((relative.to_owned(), entry.sha256.clone()))
        })
        .collect();
    if !blobs.is_empty() {
        anyhow::ensure!(
            settings.intake.blob_store_url.is_none(),
            "evidence files are kept in {} here: restore them from the bucket's versions",
            settings
                .intake
                .blob_store_url
                .as_deref()
                .unwrap_or_default()
        );
        let blob_dir = blob_dir(settings);
        let empty =
            std::fs::read_dir(&blob_dir).map_or(true, |mut entries| entries.next().is_none());
        anyhow::ensure!(
            empty,
            "{} holds files: restore only into an empty data directory",
            blob_dir.display()
        );
        for (relative, sha256) in blobs {
            placements.push((
                repository.join(BLOBS).join(&relative),
                blob_dir.join(&relative),
                sha256,
            ));
        }
    }

    // Evidence files before the databases that refer to them, as intake writes them.
    placements.sort_by_key(|(_, target, _)| {
        target
            .extension()
            .is_some_and(|extension| extension == "db")
    });
    for (source, target, sha256) in placements {
        let dir = target.parent().context("a restored file has a directory")?;
        files::create_private_dir(dir)?;
        let (found, _) = files::copy_private(&source, &target)
            .with_context(|| format!("cannot restore {}", target.display()))?;
        // Checked again as copied: the file could have changed since the check above.
        anyhow::ensure!(
            found == sha256,
            "{} changed while it was restored (SHA-256 {found}, the manifest says {sha256}); \
             empty the data directory and restore again",
            source.display()
        );
        files::sync_dir(dir)?;
    }
    Ok(manifest)
}

fn blob_dir(settings: &Settings) -> PathBuf {
    settings
        .intake
        .blob_dir
        .clone()
        .unwrap_or_else(|| settings.data_dir.join("blobs"))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The name of the latest complete snapshot in `repository`.
fn latest(repository: &Path) -> anyhow::Result<String> {
    let dir = repository.join(SNAPSHOTS);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("{} is not a backup repository", repository.display()))?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    names
        .pop()
        .with_context(|| format!("{} holds no complete snapshot", dir.display()))
}
