//! Resumable upload sessions: a file announced by `StartUpload` and written by as many
//! `WriteUpload` streams as a bad link needs. What arrived is kept in a private file
//! (`data_dir/uploads/<id>.part`, 0600 under the process's umask) and hashed as it came, the
//! SHA-256 state held with the session, so a dropped connection costs nothing that arrived.
//!
//! Sessions live in the process: a restart drops them (their partial files are removed at
//! start, as the blob store's temporary files are) and clients start again. One writer at a
//! time: a second stream on a session that is being written is refused, not queued, so that
//! the offset a client read stays the offset it writes at.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use docket_domain::evidence::Sha256Hex;
use docket_proto::docket::intake::v1 as pb;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::request::UploadHeader;
use crate::error::IntakeError;

/// The open upload sessions of one intake process.
#[derive(Debug)]
pub struct UploadSessions {
    dir: PathBuf,
    expiry: Duration,
    max_open: usize,
    open: Mutex<HashMap<Uuid, Arc<Session>>>,
}

/// One resumable upload.
#[derive(Debug)]
pub struct Session {
    pub id: Uuid,
    /// The subject of the token that started it: no one else may see or write it.
    owner: String,
    pub header: UploadHeader,
    pub size: u64,
    pub declared_sha256: Sha256Hex,
    /// Bytes held, readable while a writer holds `state`.
    received: AtomicU64,
    /// The last write (or the start), for expiry.
    touched: Mutex<DateTime<Utc>>,
    /// The evidence the upload recorded, once complete.
    completed: OnceLock<Uuid>,
    pub state: tokio::sync::Mutex<SessionState>,
}

/// What only the one writer of a session touches.
#[derive(Debug)]
pub struct SessionState {
    /// The partial file; `None` once the upload is complete.
    pub file: Option<tokio::fs::File>,
    pub hasher: Sha256,
    /// The first bytes, for media type detection and EXIF.
    pub prefix: Vec<u8>,
    pub received: u64,
    /// The answer of the stream that completed the upload, given again to a client that
    /// missed it.
    pub completed: Option<pb::UploadEvidenceResponse>,
}

impl UploadSessions {
    /// Sessions kept under `dir`; partial files a previous process left there are removed.
    pub fn open(dir: PathBuf, expiry: Duration, max_open: usize) -> std::io::Result<Self> {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        docket_platform::files::create_private_dir(&dir)?;
        Ok(Self {
            dir,
            expiry,
            max_open,
            open: Mutex::default(),
        })
    }

    /// Where the bytes of session `id` are kept.
    pub fn part_path(&self, id: Uuid) -> PathBuf {
        self.dir.join(format!("{id}.part"))
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Session>>> {
        // A panic while holding this lock leaves a map that is still whole: keep using it.
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a session for `header`, whose declared size and hash are known.
    pub async fn start(
        &self,
        owner: &str,
        header: UploadHeader,
        size: u64,
        declared_sha256: Sha256Hex,
    ) -> Result<Arc<Session>, IntakeError> {
        self.sweep().await;
        let open = self
            .sessions()
            .values()
            .filter(|s| s.completed.get().is_none())
            .count();
        if open >= self.max_open {
            return Err(IntakeError::TooManyUploads(self.max_open));
        }
        let id = Uuid::now_v7();
        let file = create_part(&self.part_path(id))
            .await
            .map_err(IntakeError::UploadFile)?;
        let session = Arc::new(Session {
            id,
            owner: owner.to_owned(),
            header,
            size,
            declared_sha256,
            received: AtomicU64::new(0),
            touched: Mutex::new(Utc::now()),
            completed: OnceLock::new(),
            state: tokio::sync::Mutex::new(SessionState {
                file: Some(file),
                hasher: Sha256::new(),
                prefix: Vec::new(),
                received: 0,
                completed: None,
            }),
        });
        self.sessions().insert(id, session.clone());
        Ok(session)
    }

    /// The session `id` of `owner`; another's, an unknown or an expired one is not found.
    pub async fn find(&self, owner: &str, id: Uuid) -> Result<Arc<Session>, IntakeError> {
        self.sweep().await;
        match self.sessions().get(&id) {
            Some(session) if session.owner == owner => Ok(session.clone()),
            Some(_) | None => Err(IntakeError::UploadNotFound(id)),
        }
    }

    /// Drops session `id` and its partial file.
    pub async fn remove(&self, id: Uuid) {
        self.sessions().remove(&id);
        remove_part(&self.part_path(id)).await;
    }

    /// When `session` expires unless written to.
    pub fn expire_time(&self, session: &Session) -> DateTime<Utc> {
        let expiry = chrono::Duration::from_std(self.expiry).unwrap_or(chrono::Duration::MAX);
        session
            .touched()
            .checked_add_signed(expiry)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Drops the sessions not written to for the expiry time and not being written now.
    pub async fn sweep(&self) {
        let now = Utc::now();
        let expired: Vec<Uuid> = self
            .sessions()
            .values()
            .filter(|s| self.expire_time(s) <= now && s.state.try_lock().is_ok())
            .map(|s| s.id)
            .collect();
        for id in expired {
            tracing::info!(upload = %id, "an upload session expired; its bytes are removed");
            self.remove(id).await;
        }
    }
}

impl Session {
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Acquire)
    }

    pub fn touched(&self) -> DateTime<Utc> {
        *self
            .touched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records that `received` bytes are held now.
    pub fn advanced(&self, received: u64) {
        self.received.store(received, Ordering::Release);
        *self
            .touched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Utc::now();
    }

    pub fn evidence_id(&self) -> Option<Uuid> {
        self.completed.get().copied()
    }

    pub fn complete(&self, evidence_id: Uuid) {
        let _ = self.completed.set(evidence_id);
    }
}

/// A new, empty partial file, 0600 whatever the umask.
async fn create_part(path: &Path) -> std::io::Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(docket_platform::files::FILE_MODE);
    options.open(path).await
}

pub async fn remove_part(path: &Path) {
    if let Err(error) = tokio::fs::remove_file(path).await
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(%error, path = %path.display(), "cannot remove a partial upload");
    }
}
