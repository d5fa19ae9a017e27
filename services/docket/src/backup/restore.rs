//! Restoring a snapshot into an empty data directory: every file is checked against the
//! manifest first, and nothing is written unless all are as recorded.

use std::path::{Path, PathBuf};

use anyhow::Context;
use docket_platform::{ServiceKind, Settings};

use super::manifest::{self, FileEntry, Manifest};
use super::{BLOBS, RestoreArgs, SNAPSHOTS, files, sqlite, stored};
use crate::crypt::{self, Identities};

pub async fn restore(settings: &Settings, args: RestoreArgs) -> anyhow::Result<()> {
    let identities = Identities::read(&args.identities)?;
    let manifest = restore_into(settings, &args.from, args.snapshot.as_deref(), &identities)?;
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
        let how = if manifest.encrypted_to.is_empty() {
            ""
        } else {
            " (decrypt it with `age -d -i KEY`)"
        };
        println!(
            "checked, restore it yourself{how}: {}",
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
    identities: &Identities,
) -> anyhow::Result<Manifest> {
    let name = match snapshot {
        Some(name) => name.to_owned(),
        None => manifest::latest(repository)?,
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

    if !manifest.encrypted_to.is_empty() {
        anyhow::ensure!(
            !identities.is_empty(),
            "snapshot {name} is encrypted to {}: give the identity that opens it with \
             --identity FILE",
            manifest.encrypted_to.join(", ")
        );
        for (path, entry) in &manifest.files {
            if entry.clear_sha256.is_some() {
                stored::check_opens(&repository.join(path), identities)
                    .with_context(|| format!("refusing to restore snapshot {name}: {path}"))?;
            }
        }
    }

    // Where each file goes, all checked before the first is written.
    let mut placements: Vec<(PathBuf, PathBuf, FileEntry)> = Vec::new();
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
        let entry = manifest
            .files
            .get(&database.file)
            .cloned()
            .with_context(|| format!("the manifest does not list {}", database.file))?;
        placements.push((repository.join(&database.file), target, entry));
    }
    let blob_prefix = format!("{BLOBS}/");
    let blobs: Vec<(String, FileEntry)> = manifest
        .files
        .iter()
        .filter_map(|(path, entry)| {
            let relative = path.strip_prefix(&blob_prefix)?;
            Some((relative.to_owned(), entry.clone()))
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
        for (relative, entry) in blobs {
            // An encrypted blob is kept as `<digest>.age`; intake keeps it as `<digest>`.
            let kept = relative
                .strip_suffix(&crypt::encrypted_name(""))
                .filter(|_| entry.clear_sha256.is_some())
                .unwrap_or(&relative);
            placements.push((
                repository.join(BLOBS).join(&relative),
                blob_dir.join(kept),
                entry,
            ));
        }
    }

    // Evidence files before the databases that refer to them, as intake writes them.
    placements.sort_by_key(|(_, target, _)| {
        target
            .extension()
            .is_some_and(|extension| extension == "db")
    });
    for (source, target, entry) in placements {
        let dir = target.parent().context("a restored file has a directory")?;
        files::create_private_dir(dir)?;
        stored::restore(&source, &target, &entry, identities)
            .with_context(|| format!("cannot restore {}", target.display()))?;
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
