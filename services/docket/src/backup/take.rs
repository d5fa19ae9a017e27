//! Taking a snapshot into a backup repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use docket_platform::{ServiceKind, Settings};

use super::manifest::{self, DatabaseCopy, FileEntry, Manifest};
use super::{ADDED, BLOBS, BackupArgs, SNAPSHOTS, files, sqlite, stored};
use crate::crypt::{self, Recipients};

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
    let recipients = Recipients::parse(&args.recipients)?;
    let taken = take(settings, &args.out, &args.add, recipients.as_ref()).await?;
    println!("snapshot {}", taken.snapshot.display());
    println!(
        "evidence files: {} copied, {} already in the repository",
        taken.blobs_copied, taken.blobs_already_held
    );
    match &recipients {
        Some(recipients) => println!("encrypted to {}", recipients.as_text().join(", ")),
        None => println!(
            "in clear: keep the repository on an encrypted volume, or give --recipient age1…"
        ),
    }
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
    recipients: Option<&Recipients>,
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
    let written = write_snapshot(settings, repository, &partial, &name, started, recipients)
        .await
        .and_then(|mut manifest| {
            add_files(&mut manifest.0, &partial, &name, added, recipients)?;
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
    recipients: Option<&Recipients>,
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
        // Encrypted, the plaintext copy is made beside the live database (which holds the same
        // in clear), never in the repository.
        let scratch = match recipients {
            Some(_) => Some(scratch_dir(&source)?),
            None => None,
        };
        let copied = match &scratch {
            Some(dir) => dir.path().join(&file_name),
            None => partial.join(&file_name),
        };
        sqlite::snapshot(settings, &source, &copied).await?;
        docket_platform::files::restrict_file(&copied)?;
        let stored_name = match recipients {
            Some(_) => crypt::encrypted_name(&file_name),
            None => file_name,
        };
        let copy = sqlite::Copy::open(&copied).await?;
        let facts = DatabaseCopy {
            service: kind.name().to_owned(),
            file: format!("{SNAPSHOTS}/{name}/{stored_name}"),
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
        let entry = match scratch {
            Some(dir) => {
                let (entry, _) = stored::store(&copied, &partial.join(&stored_name), recipients)?;
                drop(dir);
                entry
            }
            None => {
                let (sha256, bytes) = files::hash_file(&copied)?;
                FileEntry {
                    sha256,
                    bytes,
                    clear_sha256: None,
                }
            }
        };
        file_entries.insert(facts.file.clone(), entry);
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
            // What the last snapshot recorded of the blobs it holds: an encrypted blob held
            // already is not read again to learn its stored hash.
            let previous = manifest::latest(repository)
                .ok()
                .and_then(|last| Manifest::read(&repository.join(SNAPSHOTS).join(last)).ok())
                .map(|m| m.files)
                .unwrap_or_default();
            let mut damaged = Vec::new();
            for (sha256, size) in &referenced {
                let relative = match recipients {
                    Some(_) => crypt::encrypted_name(&files::blob_path(sha256)),
                    None => files::blob_path(sha256),
                };
                let path = format!("{BLOBS}/{relative}");
                let target = repository.join(BLOBS).join(&relative);
                let entry = match held_blob(&target, &path, sha256, *size, recipients, &previous) {
                    Some(entry) => {
                        held += 1;
                        entry
                    }
                    None => match copy_blob(
                        &source.join(files::blob_path(sha256)),
                        &target,
                        sha256,
                        recipients,
                    ) {
                        Ok(entry) => {
                            copied += 1;
                            entry
                        }
                        Err(error) => {
                            damaged.push(format!("{sha256}: {error:#}"));
                            continue;
                        }
                    },
                };
                file_entries.insert(path, entry);
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
        encrypted_to: recipients.map(|r| r.as_text().to_vec()).unwrap_or_default(),
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
    recipients: Option<&Recipients>,
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
        let stored_name = match recipients {
            Some(_) => crypt::encrypted_name(file_name),
            None => file_name.to_owned(),
        };
        let (entry, _) = stored::store(file, &dir.join(&stored_name), recipients)
            .with_context(|| format!("cannot add {}", file.display()))?;
        let path = format!("{SNAPSHOTS}/{name}/{ADDED}/{stored_name}");
        manifest.added.push(path.clone());
        manifest.files.insert(path, entry);
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

/// The entry of a blob the repository holds already at `target` (`path` in manifests), or
/// `None` when it must be copied. Blobs never change: a file there under the blob's name is it
/// (each is renamed into place only once complete); in clear its size is checked too.
fn held_blob(
    target: &Path,
    path: &str,
    sha256: &str,
    size: i64,
    recipients: Option<&Recipients>,
    previous: &BTreeMap<String, FileEntry>,
) -> Option<FileEntry> {
    let metadata = std::fs::metadata(target).ok()?;
    match recipients {
        None => (i64::try_from(metadata.len()).ok()? == size).then(|| FileEntry {
            sha256: sha256.to_owned(),
            bytes: metadata.len(),
            clear_sha256: None,
        }),
        Some(_) => match previous.get(path) {
            Some(entry) if entry.bytes == metadata.len() => Some(entry.clone()),
            // Not in the last manifest (an interrupted backup left it): hashed once here.
            Some(_) | None => {
                let (stored, bytes) = files::hash_file(target).ok()?;
                Some(FileEntry {
                    sha256: stored,
                    bytes,
                    clear_sha256: Some(sha256.to_owned()),
                })
            }
        },
    }
}

/// A private scratch directory beside the live database `source`, removed when dropped.
fn scratch_dir(source: &Path) -> anyhow::Result<tempfile::TempDir> {
    let parent = source
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = tempfile::Builder::new()
        .prefix(".docket-backup-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot make a scratch directory in {}", parent.display()))?;
    docket_platform::files::create_private_dir(dir.path())?;
    Ok(dir)
}

/// Copies (or encrypts) the blob `source` to `target` in the repository, through a temporary
/// file, checking that its bytes hash to the name it is kept under.
fn copy_blob(
    source: &Path,
    target: &Path,
    sha256: &str,
    recipients: Option<&Recipients>,
) -> anyhow::Result<FileEntry> {
    let dir = target.parent().context("a blob's path has a directory")?;
    files::create_private_dir(dir)?;
    let temporary = dir.join(format!(".{sha256}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let copied = stored::store(source, &temporary, recipients);
    let outcome = match copied {
        Ok((entry, found)) if found == sha256 => {
            std::fs::rename(&temporary, target)?;
            files::sync_dir(dir)?;
            return Ok(entry);
        }
        Ok((_, found)) => anyhow::anyhow!("its bytes hash to {found}"),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            anyhow::anyhow!("missing")
        }
        Err(error) => anyhow::Error::from(error),
    };
    let _ = std::fs::remove_file(&temporary);
    Err(outcome)
}
