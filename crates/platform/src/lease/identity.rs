//! Who holds a lease: a stable identity per replica, so that a replica restarted after a crash
//! takes its own leases back at once instead of waiting out the TTL of its dead incarnation.
//!
//! The identity is the host's name, the service and the data directory. Taking a lease back
//! from a holder with the same identity but another incarnation is safe only if that holder is
//! dead; two live processes sharing one identity would take the lease from each other. So the
//! identity is claimed with an exclusive lock on a file in the data directory, held for as long
//! as the process (or the service instance) lives: the kernel drops the lock when the process
//! dies, even by `kill -9`, so a second live process on the same host and data directory cannot
//! claim it and falls back to a random identity, which takes a lease only once it is free or
//! expired. Replicas on different hosts differ by host name (Kubernetes pod names are unique;
//! a StatefulSet keeps them across restarts).

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

/// How long a starting replica waits for the lock of its identity, which a dying instance in the
/// same process may still be letting go of.
const CLAIM_PATIENCE: Duration = Duration::from_millis(500);

/// The identity a replica's leases are held under.
#[derive(Debug, Clone)]
pub struct HolderIdentity {
    id: String,
    /// The lock that makes this identity exclusive while it lives; `None` for a random identity.
    lock: Option<Arc<File>>,
}

impl HolderIdentity {
    /// A one-off identity: it never takes a lease back early.
    pub fn random() -> Self {
        Self {
            id: format!("{}-{}", std::process::id(), Uuid::now_v7().simple()),
            lock: None,
        }
    }

    /// The stable identity of `service` on this host over `data_dir`, or a random one (with a
    /// warning) when another live process holds it or the data directory cannot be written.
    pub async fn claim(data_dir: &Path, service: &str) -> Self {
        let deadline = tokio::time::Instant::now() + CLAIM_PATIENCE;
        loop {
            match Self::try_claim(data_dir, service) {
                Ok(Some(identity)) => return identity,
                Ok(None) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok(None) => {
                    tracing::warn!(
                        service,
                        data_dir = %data_dir.display(),
                        "another live process uses this data directory for the same service: \
                         its leases are held under a random identity, taken only once free"
                    );
                    return Self::random();
                }
                Err(error) => {
                    tracing::warn!(service, %error, "cannot lock a lease identity; using a random one");
                    return Self::random();
                }
            }
        }
    }

    fn try_claim(data_dir: &Path, service: &str) -> std::io::Result<Option<Self>> {
        create_private_dir(data_dir)?;
        let path = data_dir.join(format!(".{service}.lease-holder.lock"));
        let file = open_private(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(error)) => return Err(error),
        }
        let dir = std::fs::canonicalize(data_dir)?;
        Ok(Some(Self {
            id: format!("{}/{service}@{}", host_name(), dir.display()),
            lock: Some(Arc::new(file)),
        }))
    }

    /// The identity as stored in the lease rows.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether no other live process can share this identity, so that a lease row with it and
    /// another incarnation was left by a dead one.
    pub fn is_exclusive(&self) -> bool {
        self.lock.is_some()
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn one_live_claim_per_service_and_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let first = HolderIdentity::claim(dir.path(), "intake").await;
        assert!(first.is_exclusive());
        let second = HolderIdentity::claim(dir.path(), "intake").await;
        assert!(!second.is_exclusive(), "the first still lives");
        assert_ne!(first.id(), second.id());
        let other_service = HolderIdentity::claim(dir.path(), "reporting").await;
        assert!(other_service.is_exclusive());

        let id = first.id().to_owned();
        drop(first);
        let restarted = HolderIdentity::claim(dir.path(), "intake").await;
        assert!(restarted.is_exclusive());
        assert_eq!(
            restarted.id(),
            id,
            "the same identity once the first is gone"
        );
    }
}
