//! Taking a snapshot into a backup repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use docket_platform::{ServiceKind, Settings};

use super::manifest::{self, DatabaseCopy, FileEntry, Manifest};
use super::{ADDED, BLOBS, BackupArgs, SNAPSHOTS, files, sqlite};

/// The order the databases are copied in (see the module's note).
const ORDER: [ServiceKind; 3] = [
    ServiceKind::Reporting,
    ServiceKind::Intake,
    ServiceKind::CaseManagement,
];

/// What one backup did.
#[derive(Debug)]
pub struct Taken {
    pub snapshot: PathBuf,
    pub blobs_copied: usize,
    pub blobs_already_held: usize,
    pub manifest_sha256: String,
    pub not_covered: Vec<String>,
}

pub async fn backup(settings: &Settings, args: BackupArgs) -> anyhow::Result<()> {
    let taken = take(settings, &args.out, &args.add).await?;
    println!("snapshot {}", taken.snapshot.display());
    println!(
        "evidence files: {} copied, {} already in the repository",
        taken.blobs_copied, taken.blobs_already_held
    );
    println!("manifest SHA-256 {}", taken.manifest_sha256);
    for line in &taken.not_covered {
        println!("not covered: {line}");
    }
    Ok(())
}

/// Takes a snapshot of the deployment `settings` describe into `repository`.
pub async fn take(
    settings: &Settings,
    repository: &Path,
    added: &[PathBuf],
) -> anyhow::Result<Taken> {
    let started = chrono::Utc::now();
    let name = started.format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let snapshots = repository.join(SNAPSHOTS);
    let blobs = repository.join(BLOBS);
    for dir in [repository, &snapshots, &blobs] {
        files::create_private_dir(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Built under a hidden name and renamed once its manifest is on disk: a snapshot that a
    // crash interrupted never looks complete.
    let partial = snapshots.join(format!(".{name}.partial"));
    let done = snapshots.join(&name);
    anyhow::ensure!(!done.exists(), "{} exists already", done.display());
    files::create_private_dir(&partial)?;
    let written = write_snapshot(settings, repository, &partial, &name, started)
        .await
        .and_then(|mut manifest| {
            add_files(&mut manifest.0, &partial, &name, added)?;
            Ok(manifest)
        });
    let manifest = match written {
        Ok(manifest) => manifest,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(error);
        }
    };
    let text = serde_json::to_vec_pretty(&manifest.0)?;
    files::write_private(&partial.join(manifest::FILE_NAME), &text)?;
    files::sync_dir(&partial)?;
    std::fs::rename(&partial, &done)?;
    files::sync_dir(&snapshots)?;
    let (manifest_sha256, _) = files::hash_file(&done.join(manifest::FILE_NAME))?;
    Ok(Taken {
        snapshot: done,
        blobs_copied: manifest.1,
        blobs_already_held: manifest.2,
        manifest_sha256,
        not_covered: manifest.0.not_covered,
    })
}

/// Copies the databases and the evidence files; returns the manifest and how many blobs were
/// copied and already held.
async fn write_snapshot(
    settings: &Settings,
    repository: &Path,
    partial: &Path,
    name: &str,
    started: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(Manifest, usize, usize)> {
    let mut not_covered = vec![
        "keys: the sealing keys, intake's receipt key and the token keys are not in a backup; \
         keep them apart with `docket keys export` or as your secrets are kept"
            .to_owned(),
    ];
    let mut databases = Vec::new();
    let mut file_entries = BTreeMap::new();
    let mut referenced = Vec::new();
    for kind in ORDER {
        let url = settings.database_url(kind);
        let Some(source) = sqlite::file_of(&url) else {
            not_covered.push(format!(
                "the {} database is not SQLite: back it up with pg_dump or continuous \
                 archiving (docs/OPERATIONS.md), intake's before this command",
                kind.name()
            ));
            continue;
        };
        let file_name = format!("{}.db", kind.name());
        let target = partial.join(&file_name);
        sqlite::snapshot(settings, &source, &target).await?;
        docket_platform::files::restrict_file(&target)?;
        let copy = sqlite::Copy::open(&target).await?;
        let facts = DatabaseCopy {
            service: kind.name().to_owned(),
            file: format!("{SNAPSHOTS}/{name}/{file_name}"),
            migrations: copy.migrations().await?,
            audit_head: copy.audit_head().await?,
            stream_position: copy.stream_position().await?,
            cursors: copy.cursors().await?,
            undelivered: copy.undelivered().await?,
        };
        if kind == ServiceKind::Intake {
            referenced = copy.evidence_blobs().await?;
        }
        copy.close().await;
        let (sha256, bytes) = files::hash_file(&target)?;
        file_entries.insert(facts.file.clone(), FileEntry { sha256, bytes });
        databases.push(facts);
    }

    let (mut copied, mut held) = (0, 0);
    let intake_copied = databases.iter().any(|d| d.service == "intake");
    match &settings.intake.blob_store_url {
        Some(url) => not_covered.push(format!(
            "evidence files in {url}: keep them with the bucket's versioning or replication; \
             intake's database names every one by its SHA-256"
        )),
        None => {
            let source = settings
                .intake
                .blob_dir
                .clone()
                .unwrap_or_else(|| settings.data_dir.join("blobs"));
            if !intake_copied {
                // Intake's database is dumped by other means, before this command: every
                // evidence file it names was stored before the dump, so all the files stored
                // now cover it.
                referenced = stored_blobs(&source)?;
            }
            let mut damaged = Vec::new();
            for (sha256, size) in &referenced {
                let relative = files::blob_path(sha256);
                let target = repository.join(BLOBS).join(&relative);
                let held_already = std::fs::metadata(&target)
                    .is_ok_and(|m| i64::try_from(m.len()).is_ok_and(|len| len == *size));
                if held_already {
                    held += 1;
                } else {
                    match copy_blob(&source.join(&relative), &target, sha256) {
                        Ok(()) => copied += 1,
                        Err(error) => {
                            damaged.push(format!("{sha256}: {error:#}"));
                            continue;
                        }
                    }
                }
                file_entries.insert(
                    format!("{BLOBS}/{relative}"),
                    FileEntry {
                        sha256: sha256.clone(),
                        bytes: u64::try_from(*size).unwrap_or_default(),
                    },
                );
            }
            anyhow::ensure!(
                damaged.is_empty(),
                "evidence files that intake holds are missing or damaged in {}; repair them \
                 (docs/OPERATIONS.md) and back up again:\n  {}",
                source.display(),
                damaged.join("\n  ")
            );
        }
    }

    let manifest = Manifest {
        format: manifest::FORMAT,
        docket_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: started.to_rfc3339(),
        snapshot: name.to_owned(),
        databases,
        files: file_entries,
        added: Vec::new(),
        not_covered,
    };
    Ok((manifest, copied, held))
}

/// Copies the operator's own files (`--add`: PostgreSQL dumps, say) into the snapshot's
/// `added/` directory and lists them in the manifest, so that a restore checks them too.
fn add_files(
    manifest: &mut Manifest,
    partial: &Path,
    name: &str,
    added: &[PathBuf],
) -> anyhow::Result<()> {
    if added.is_empty() {
        return Ok(());
    }
    let dir = partial.join(ADDED);
    files::create_private_dir(&dir)?;
    for file in added {
        let file_name = file
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("{} has no usable file name", file.display()))?;
        let (sha256, bytes) = files::copy_private(file, &dir.join(file_name))
            .with_context(|| format!("cannot add {}", file.display()))?;
        let path = format!("{SNAPSHOTS}/{name}/{ADDED}/{file_name}");
        manifest.added.push(path.clone());
        manifest.files.insert(path, FileEntry { sha256, bytes });
    }
    Ok(())
}

/// Every evidence file in the local blob directory `dir`: SHA-256 (its name) and size.
fn stored_blobs(dir: &Path) -> anyhow::Result<Vec<(String, i64)>> {
    let mut found = Vec::new();
    let Ok(prefixes) = std::fs::read_dir(dir.join("sha256")) else {
        return Ok(found);
    };
    for prefix in prefixes {
        for entry in std::fs::read_dir(prefix?.path())? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_digest = name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit());
            if is_digest && entry.file_type()?.is_file() {
                found.push((
                    name,
                    i64::try_from(entry.metadata()?.len()).unwrap_or(i64::MAX),
                ));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Copies the blob `source` to `target` in the repository, through a temporary file, checking
/// that its bytes hash to the name it is kept under.
fn copy_blob(source: &Path, target: &Path, sha256: &str) -> anyhow::Result<()> {
    let dir = target.parent().context("a blob's path has a directory")?;
    files::create_private_dir(dir)?;
    let temporary = dir.join(format!(".{sha256}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let copied = files::copy_private(source, &temporary);
    let outcome = match copied {
        Ok((found, _)) if found == sha256 => {
            std::fs::rename(&temporary, target)?;
            files::sync_dir(dir)?;
            return Ok(());
        }
        Ok((found, _)) => anyhow::anyhow!("its bytes hash to {found}"),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            anyhow::anyhow!("missing")
        }
        Err(error) => anyhow::Error::from(error),
    };
    let _ = std::fs::remove_file(&temporary);
    Err(outcome)
}
