//! Evidence files in an object store, each under the SHA-256 of its bytes. A file is written to
//! `tmp/` while it streams in and moved to `sha256/<2 hex>/<digest>` only once its hash is known
//! and accepted; the same bytes twice are one file, and when they come again the stored copy is
//! checked against them and healed from them if it was damaged. The store is a local directory by default, or
//! S3-compatible object storage.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use docket_domain::evidence::Sha256Hex;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::staging::Staging;

/// Bytes held per part before it is written (the chunks as received, not copied); with two
/// parts in flight, an upload holds at most about three of these in memory whatever the file's
/// size. S3 wants parts of at least 5 MiB.
const PART_BYTES: usize = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

/// The store of evidence files.
#[derive(Debug, Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// The directory of a local store, where a finished file can be linked in, not copied.
    local_root: Option<PathBuf>,
}

/// What became of a finished upload's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed {
    /// They are a new blob.
    Stored,
    /// The same bytes were stored already, and the stored copy is intact.
    AlreadyStored,
    /// The same bytes were stored already but the stored copy was damaged as `found` says;
    /// these bytes replaced it.
    Repaired { found: Damage },
}

/// The state of a stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Intact,
    Damaged(Damage),
}

/// What is wrong with a stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    Missing,
    /// Of another size than the bytes it should hold (found before reading a byte).
    Size {
        found: u64,
        expected: u64,
    },
    /// Its bytes hash to this.
    Hash(Sha256Hex),
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Missing => f.write_str("missing"),
            Damage::Size { found, expected } => write!(f, "{found} bytes instead of {expected}"),
            Damage::Hash(found) => write!(f, "its bytes hash to {}", found.as_str()),
        }
    }
}

/// A file being written, not yet a blob.
pub struct PendingBlob {
    path: Path,
    writer: Writer,
}

/// How a temporary file is written: into a local directory directly, each part synced while the
/// next one streams in (see `staging`), or as the parts of an object store's multipart upload.
enum Writer {
    Local(Staging),
    Store(WriteMultipart),
}

impl std::fmt::Debug for PendingBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingBlob")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl BlobStore {
    /// A store in the local directory `dir`, created if missing, written durably (fsync).
    /// Temporary files left by a process that died mid-upload are removed.
    pub fn local(dir: &FsPath) -> Result<Self, object_store::Error> {
        let temporary = dir.join("tmp");
        if temporary.exists() {
            let _ = std::fs::remove_dir_all(&temporary);
        }
        // Evidence is the office's alone: the directory is 0700 (and, the umask being 077,
        // every file and directory the object store makes in it is too).
        docket_platform::files::create_private_dir(dir).map_err(|source| {
            object_store::Error::Generic {
                store: "LocalFileSystem",
                source: Box::new(source),
            }
        })?;
        // With fsync, a file and its directory entry are on disk before the upload completes
        // and before the rename that publishes it returns, as an S3 PUT is: the evidence record
        // is committed durably after that, so it can never name bytes a power cut lost.
        Ok(Self {
            store: Arc::new(LocalFileSystem::new_with_prefix(dir)?.with_fsync(true)),
            local_root: Some(dir.to_owned()),
        })
    }

    /// An S3-compatible store: `s3://bucket` or `s3://bucket/prefix`. Credentials, region and,
    /// for S3-compatible servers, the endpoint come from `options` (keys as object_store names
    /// them: `aws_access_key_id`, `aws_secret_access_key`, `aws_region`, `aws_endpoint`,
    /// `aws_allow_http`, …) or else from the `AWS_*` environment variables.
    pub fn s3<'a>(
        url: &str,
        options: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<Self, object_store::Error> {
        let parsed = url::Url::parse(url).map_err(|source| object_store::Error::Generic {
            store: "S3",
            source: Box::new(source),
        })?;
        let bucket_url = format!("s3://{}", parsed.host_str().unwrap_or_default());
        let mut builder = AmazonS3Builder::from_env().with_url(bucket_url);
        for (key, value) in options {
            let key: AmazonS3ConfigKey = key.parse()?;
            builder = builder.with_config(key, value);
        }
        let store = builder.build()?;
        let prefix = parsed.path().trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(store)
        } else {
            Arc::new(PrefixStore::new(store, prefix))
        };
        Ok(Self {
            store,
            local_root: None,
        })
    }

    fn blob_path(sha256: &str) -> Path {
        let shard = sha256.get(..2).unwrap_or("00");
        Path::from(format!("sha256/{shard}/{sha256}"))
    }

    /// Starts writing a new temporary file.
    pub async fn begin(&self) -> Result<PendingBlob, object_store::Error> {
        let name = Uuid::new_v4().to_string();
        let path = Path::from(format!("tmp/{name}"));
        let writer = match &self.local_root {
            Some(root) => Writer::Local(
                Staging::create(root.join("tmp").join(&name), PART_BYTES, PARTS_IN_FLIGHT).await?,
            ),
            None => {
                let upload = self.store.put_multipart(&path).await?;
                Writer::Store(WriteMultipart::new_with_chunk_size(upload, PART_BYTES))
            }
        };
        Ok(PendingBlob { path, writer })
    }

    /// Makes a copy of the finished local file `file` a temporary file of the store, for
    /// [`BlobStore::commit`]; `file` itself is left as it is. A local store on the same file
    /// system takes a hard link (no byte is copied); otherwise the bytes are streamed in.
    pub async fn adopt(&self, file: &FsPath) -> Result<Path, object_store::Error> {
        let name = Uuid::new_v4().to_string();
        if let Some(root) = &self.local_root {
            let temporary = root.join("tmp");
            let linked = tokio::task::spawn_blocking({
                let (file, target) = (file.to_owned(), temporary.join(&name));
                move || {
                    docket_platform::files::create_private_dir(&temporary)?;
                    std::fs::hard_link(file, target)
                }
            })
            .await;
            match linked {
                Ok(Ok(())) => return Ok(Path::from(format!("tmp/{name}"))),
                Ok(Err(error)) => {
                    tracing::debug!(%error, "cannot link an upload into the store: copying it");
                }
                Err(error) => tracing::debug!(%error, "linking an upload failed: copying it"),
            }
        }
        let source = |error: std::io::Error| object_store::Error::Generic {
            store: "upload",
            source: Box::new(error),
        };
        let mut reader = tokio::fs::File::open(file).await.map_err(source)?;
        let mut pending = self.begin().await?;
        loop {
            let mut buffer = bytes::BytesMut::zeroed(1024 * 1024);
            let read = match tokio::io::AsyncReadExt::read(&mut reader, &mut buffer).await {
                Ok(read) => read,
                Err(error) => {
                    pending.abort().await;
                    return Err(source(error));
                }
            };
            if read == 0 {
                break;
            }
            buffer.truncate(read);
            if let Err(error) = pending.write(buffer.freeze()).await {
                pending.abort().await;
                return Err(error);
            }
        }
        pending.finish().await
    }

    /// Makes a finished temporary file of `size` bytes the blob of `sha256` (the hash its bytes
    /// were just found to have). When that blob already exists, the stored copy is checked
    /// against these good bytes before they are let go, and replaced by them if it is damaged.
    pub async fn commit(
        &self,
        pending: Path,
        sha256: &str,
        size: u64,
    ) -> Result<Committed, object_store::Error> {
        let blob = Self::blob_path(sha256);
        match self.store.rename_if_not_exists(&pending, &blob).await {
            Ok(()) => Ok(Committed::Stored),
            Err(object_store::Error::AlreadyExists { .. }) => {
                self.settle_existing(&pending, &blob, sha256, size).await
            }
            // Stores without an atomic "rename unless it exists" (S3 as configured by default):
            // the name is the hash of the bytes, so two uploads racing to one name write the
            // same bytes, and checking before renaming is safe.
            Err(
                object_store::Error::NotSupported { .. }
                | object_store::Error::NotImplemented { .. },
            ) => match self.store.head(&blob).await {
                Ok(_) => self.settle_existing(&pending, &blob, sha256, size).await,
                Err(object_store::Error::NotFound { .. }) => {
                    self.store.rename(&pending, &blob).await?;
                    Ok(Committed::Stored)
                }
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        }
    }

    /// The same bytes came again while a blob of `sha256` exists: keeps the stored copy if it
    /// is intact, else puts the new bytes in its place (a rename over it: atomic on a local
    /// disk, a copy on S3, so a reader sees either the old bytes or the new ones).
    ///
    /// The stored copy is re-read only here, when a duplicate arrives, and after the new bytes
    /// are safely staged: its size is compared first (a truncated copy costs one metadata
    /// call), then it is hashed as it streams, in constant memory. New files never pay for it.
    async fn settle_existing(
        &self,
        pending: &Path,
        blob: &Path,
        sha256: &str,
        size: u64,
    ) -> Result<Committed, object_store::Error> {
        match self.inspect(blob, sha256, Some(size)).await? {
            Condition::Intact => {
                self.store.delete(pending).await?;
                Ok(Committed::AlreadyStored)
            }
            Condition::Damaged(found) => {
                self.store.rename(pending, blob).await?;
                tracing::error!(
                    %sha256,
                    %found,
                    "EVIDENCE FILE REPAIRED: the stored copy was damaged and is replaced by an upload of the same bytes"
                );
                Ok(Committed::Repaired { found })
            }
        }
    }

    /// Whether the blob of `sha256` still holds the bytes its name promises.
    pub async fn check(&self, sha256: &str) -> Result<Condition, object_store::Error> {
        self.inspect(&Self::blob_path(sha256), sha256, None).await
    }

    /// Compares the object at `blob` with `sha256` (and `size` when known, before reading a
    /// byte). A missing object is damage; any other error of the store is the store's and
    /// is returned as it is, so that a passing fault is never recorded as damage.
    async fn inspect(
        &self,
        blob: &Path,
        sha256: &str,
        size: Option<u64>,
    ) -> Result<Condition, object_store::Error> {
        let missing = || Condition::Damaged(Damage::Missing);
        if let Some(expected) = size {
            match self.store.head(blob).await {
                Ok(meta) if meta.size != expected => {
                    return Ok(Condition::Damaged(Damage::Size {
                        found: meta.size,
                        expected,
                    }));
                }
                Ok(_) => {}
                Err(object_store::Error::NotFound { .. }) => return Ok(missing()),
                Err(error) => return Err(error),
            }
        }
        let mut bytes = match self.store.get(blob).await {
            Ok(found) => found.into_stream(),
            Err(object_store::Error::NotFound { .. }) => return Ok(missing()),
            Err(error) => return Err(error),
        };
        let mut hasher = Sha256::new();
        while let Some(piece) = bytes.next().await {
            hasher.update(&piece?);
        }
        let found = Sha256Hex::from_digest(&hasher.finalize().into());
        Ok(if found.as_str() == sha256 {
            Condition::Intact
        } else {
            Condition::Damaged(Damage::Hash(found))
        })
    }

    /// Removes a temporary file that will not become a blob.
    pub async fn discard(&self, pending: &Path) {
        if let Err(error) = self.store.delete(pending).await
            && !matches!(error, object_store::Error::NotFound { .. })
        {
            tracing::warn!(%error, path = %pending, "cannot remove a temporary upload");
        }
    }

    /// The bytes `range` of the blob of `sha256`, as they come (not empty, within the blob).
    pub async fn read_range(
        &self,
        sha256: &str,
        range: std::ops::Range<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, object_store::Error>>, object_store::Error> {
        let options = object_store::GetOptions {
            range: Some(object_store::GetRange::Bounded(range)),
            ..Default::default()
        };
        Ok(self
            .store
            .get_opts(&Self::blob_path(sha256), options)
            .await?
            .into_stream())
    }

    /// The bytes of the blob of `sha256`, as they come.
    pub async fn read(
        &self,
        sha256: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, object_store::Error>>, object_store::Error> {
        Ok(self
            .store
            .get(&Self::blob_path(sha256))
            .await?
            .into_stream())
    }
}

impl PendingBlob {
    /// Appends `chunk`, waiting while too many parts are still being written. The chunk is not
    /// copied: a part is the chunks as received, written one after the other.
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), object_store::Error> {
        match &mut self.writer {
            Writer::Local(staging) => staging.write(chunk).await,
            Writer::Store(writer) => {
                writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                writer.put(chunk);
                Ok(())
            }
        }
    }

    /// Completes the temporary file, durably; returns its path for [`BlobStore::commit`].
    pub async fn finish(self) -> Result<Path, object_store::Error> {
        match self.writer {
            Writer::Local(staging) => staging.finish().await?,
            Writer::Store(writer) => {
                writer.finish().await?;
            }
        }
        Ok(self.path)
    }

    /// Abandons the temporary file.
    pub async fn abort(self) {
        let aborted = match self.writer {
            Writer::Local(staging) => staging.abort().await,
            Writer::Store(writer) => writer.abort().await,
        };
        if let Err(error) = aborted {
            tracing::warn!(%error, path = %self.path, "cannot abort a temporary upload");
        }
    }
}
