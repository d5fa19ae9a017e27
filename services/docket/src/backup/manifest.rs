//! The manifest of a snapshot: every file it consists of with its SHA-256, and what the
//! databases held when they were copied (migrations applied, audit chain heads, event stream
//! positions, reporting's cursors), so that a restore can be checked before anything is
//! written, and afterwards against the services' own answers.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::files;

/// The manifest's file name inside a snapshot directory.
pub const FILE_NAME: &str = "manifest.json";
/// The manifest format this version writes and reads.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The `docket` version that took it.
    pub docket_version: String,
    /// When the snapshot was started (UTC, RFC 3339).
    pub started_at: String,
    /// The snapshot's name under `snapshots/`.
    pub snapshot: String,
    /// Each service's database, in the order they were copied.
    pub databases: Vec<DatabaseCopy>,
    /// Every file of the snapshot, by its path relative to the repository (`/` separated):
    /// the databases under `snapshots/<name>/` and the evidence blobs under `blobs/`, which
    /// snapshots share.
    pub files: BTreeMap<String, FileEntry>,
    /// The files added with `--add` (paths as in `files`), restored by hand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    /// What this backup does not hold and must be kept another way.
    pub not_covered: Vec<String>,
    /// The age recipients its files are encrypted to (`age1…`); empty when they are in clear.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encrypted_to: Vec<String>,
}

/// One service's database as copied.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseCopy {
    /// `intake`, `case-management` or `reporting`.
    pub service: String,
    /// Its file, relative to the repository.
    pub file: String,
    /// The migrations applied to it, in order.
    pub migrations: Vec<String>,
    /// The last audit entry: its sequence and hash (`None` for an empty log).
    pub audit_head: Option<ChainHead>,
    /// The last sequence of its event stream (0 when it has none).
    pub stream_position: i64,
    /// Reporting's cursors: the last event applied from each stream.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cursors: BTreeMap<String, i64>,
    /// Intake's deliveries not yet acknowledged by case management when it was copied; they
    /// are delivered again after a restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undelivered: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub sequence: i64,
    pub entry_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The SHA-256 of the file as stored (encrypted or not): a repository can be checked
    /// without its key.
    pub sha256: String,
    pub bytes: u64,
    /// For a file encrypted to age recipients, the SHA-256 of its plaintext.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_sha256: Option<String>,
}

/// Why a snapshot cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing(String),
    Altered {
        path: String,
        found: String,
        expected: String,
    },
    Unreadable(String, String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing(path) => write!(f, "{path} is missing"),
            Problem::Altered {
                path,
                found,
                expected,
            } => write!(
                f,
                "{path} is altered: its SHA-256 is {found}, the manifest says {expected}"
            ),
            Problem::Unreadable(path, error) => write!(f, "{path} cannot be read: {error}"),
        }
    }
}

impl Manifest {
    /// Reads the manifest of the snapshot directory `snapshot`.
    pub fn read(snapshot: &Path) -> anyhow::Result<Self> {
        let path = snapshot.join(FILE_NAME);
        let text = std::fs::read(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let manifest: Self = serde_json::from_slice(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a Docket manifest: {e}", path.display()))?;
        anyhow::ensure!(
            manifest.format == FORMAT,
            "{} has format {}, this version reads {FORMAT}",
            path.display(),
            manifest.format
        );
        Ok(manifest)
    }

    /// Checks every file of the manifest under `repository`: each must be there with the
    /// SHA-256 recorded. Returns every problem found, not only the first.
    pub fn check(&self, repository: &Path) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (path, expected) in &self.files {
            // A path from the manifest never leaves the repository.
            let safe = !path.is_empty()
                && path
                    .split('/')
                    .all(|part| !part.is_empty() && part != "." && part != "..");
            if !safe {
                problems.push(Problem::Unreadable(
                    path.clone(),
                    "not a path inside the backup".into(),
                ));
                continue;
            }
            match files::hash_file(&repository.join(path)) {
                Ok((sha256, bytes)) if sha256 == expected.sha256 && bytes == expected.bytes => {}
                Ok((sha256, _)) => problems.push(Problem::Altered {
                    path: path.clone(),
                    found: sha256,
                    expected: expected.sha256.clone(),
                }),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    problems.push(Problem::Missing(path.clone()));
                }
                Err(error) => problems.push(Problem::Unreadable(path.clone(), error.to_string())),
            }
        }
        problems
    }
}

/// The name of the latest complete snapshot in `repository` (a partial one is hidden).
pub fn latest(repository: &Path) -> anyhow::Result<String> {
    let dir = repository.join(super::SNAPSHOTS);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| anyhow::anyhow!("{} is not a backup repository: {e}", repository.display()))?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    names
        .pop()
        .ok_or_else(|| anyhow::anyhow!("{} holds no complete snapshot", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_of(files: &[(&str, &[u8])], repository: &Path) -> Manifest {
        let mut entries = BTreeMap::new();
        for (path, bytes) in files {
            let full = repository.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, bytes).unwrap();
            let (sha256, bytes) = files::hash_file(&full).unwrap();
            entries.insert(
                (*path).to_owned(),
                FileEntry {
                    sha256,
                    bytes,
                    clear_sha256: None,
                },
            );
        }
        Manifest {
            format: FORMAT,
            docket_version: "test".into(),
            started_at: "2026-11-30T00:00:00Z".into(),
            snapshot: "s".into(),
            databases: Vec::new(),
            files: entries,
            added: Vec::new(),
            not_covered: Vec::new(),
            encrypted_to: Vec::new(),
        }
    }

    #[test]
    fn a_missing_or_altered_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest_of(
            &[
                ("snapshots/s/intake.db", b"db"),
                ("blobs/sha256/ab/abc", b"x"),
            ],
            dir.path(),
        );
        assert!(manifest.check(dir.path()).is_empty());
        std::fs::write(dir.path().join("snapshots/s/intake.db"), b"dB").unwrap();
        std::fs::remove_file(dir.path().join("blobs/sha256/ab/abc")).unwrap();
        let problems = manifest.check(dir.path());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            problems[0],
            Problem::Missing("blobs/sha256/ab/abc".into()),
            "{problems:?}"
        );
        assert!(
            matches!(&problems[1], Problem::Altered { path, .. } if path == "snapshots/s/intake.db")
        );
    }

    #[test]
    fn a_path_leaving_the_backup_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut manifest = manifest_of(&[], dir.path());
        manifest.files.insert(
            "../etc/passwd".into(),
            FileEntry {
                sha256: String::new(),
                bytes: 0,
                clear_sha256: None,
            },
        );
        assert!(matches!(
            manifest.check(dir.path()).as_slice(),
            [Problem::Unreadable(..)]
        ));
    }
}
