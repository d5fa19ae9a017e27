//! A file of a local blob store being written while its upload streams in, made durable part by
//! part as it grows.
//!
//! The object store's own local upload writes every part into the page cache and syncs the whole
//! file once, when it completes: the upload then waits for the disk to take all its bytes after
//! the last one arrived, so receiving and writing to disk take turns and an upload runs at about
//! `1 / (1/network + 1/disk)`. Here each part is written and synced (`fdatasync`) on a blocking
//! thread while the next part is being received, so the disk works while the network does, and
//! what is left for the last sync is one part: an upload runs at about the slower of the two.
//! Durability is unchanged: the file is synced in full before [`Staging::finish`] returns, and
//! the rename that publishes it syncs its directory (`LocalFileSystem::with_fsync`).

use std::collections::VecDeque;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use tokio::task::JoinHandle;

/// A temporary file of a local store, being written.
#[derive(Debug)]
pub(super) struct Staging {
    file: Arc<File>,
    path: PathBuf,
    /// Where the next part starts.
    offset: u64,
    /// The chunks of the part being gathered (as received, not copied) and their length.
    part: Vec<Bytes>,
    part_bytes: usize,
    part_limit: usize,
    in_flight_limit: usize,
    /// Parts being written and synced, oldest first.
    in_flight: VecDeque<JoinHandle<std::io::Result<()>>>,
    /// Finished or aborted: the file is no longer removed on drop.
    settled: bool,
}

impl Staging {
    /// Creates `path` `0600` (and its directory `0700` if missing), for parts of `part_limit`
    /// bytes with at most `in_flight_limit` of them being written at once.
    pub(super) async fn create(
        path: PathBuf,
        part_limit: usize,
        in_flight_limit: usize,
    ) -> Result<Self, object_store::Error> {
        let file = blocking({
            let path = path.clone();
            move || {
                if let Some(directory) = path.parent() {
                    docket_platform::files::create_private_dir(directory)?;
                }
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                options.open(&path)
            }
        })
        .await?;
        Ok(Self {
            file: Arc::new(file),
            path,
            offset: 0,
            part: Vec::new(),
            part_bytes: 0,
            part_limit,
            in_flight_limit: in_flight_limit.max(1),
            in_flight: VecDeque::new(),
            settled: false,
        })
    }

    /// Appends `chunk`; once a part is full it is sent to be written, after waiting for the
    /// oldest part in flight when too many are.
    pub(super) async fn write(&mut self, chunk: Bytes) -> Result<(), object_store::Error> {
        self.part_bytes += chunk.len();
        self.part.push(chunk);
        if self.part_bytes >= self.part_limit {
            while self.in_flight.len() >= self.in_flight_limit {
                self.wait_oldest().await?;
            }
            self.send_part();
        }
        Ok(())
    }

    /// Writes what is left, waits for every part, and syncs the file in full.
    pub(super) async fn finish(mut self) -> Result<(), object_store::Error> {
        self.send_part();
        while !self.in_flight.is_empty() {
            self.wait_oldest().await?;
        }
        let file = Arc::clone(&self.file);
        blocking(move || file.sync_all()).await?;
        self.settled = true;
        Ok(())
    }

    /// Stops writing and removes the file.
    pub(super) async fn abort(mut self) -> Result<(), object_store::Error> {
        while let Some(part) = self.in_flight.pop_front() {
            // The file goes whatever became of its parts.
            let _ = part.await;
        }
        self.settled = true;
        let path = self.path.clone();
        blocking(move || std::fs::remove_file(path)).await
    }

    fn send_part(&mut self) {
        if self.part.is_empty() {
            return;
        }
        let chunks = std::mem::take(&mut self.part);
        let offset = self.offset;
        self.offset += self.part_bytes as u64;
        self.part_bytes = 0;
        let file = Arc::clone(&self.file);
        self.in_flight
            .push_back(tokio::task::spawn_blocking(move || {
                write_part(&file, offset, &chunks)
            }));
    }

    async fn wait_oldest(&mut self) -> Result<(), object_store::Error> {
        let Some(part) = self.in_flight.pop_front() else {
            return Ok(());
        };
        part.await
            .map_err(|error| generic(std::io::Error::other(error)))?
            .map_err(generic)
    }
}

impl Drop for Staging {
    /// An upload dropped mid-way (its request cancelled) leaves no file behind.
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let path = std::mem::take(&mut self.path);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(move || std::fs::remove_file(path))),
            Err(_) => drop(std::fs::remove_file(path)),
        }
    }
}

/// Writes `chunks` one after the other from `offset`, then syncs the file's data, so that the
/// part is on disk before the upload needs it to be.
fn write_part(file: &File, offset: u64, chunks: &[Bytes]) -> std::io::Result<()> {
    let mut at = offset;
    for chunk in chunks {
        write_all_at(file, chunk, at)?;
        at += chunk.len() as u64;
    }
    file.sync_data()
}

#[cfg(unix)]
fn write_all_at(file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

#[cfg(not(unix))]
fn write_all_at(mut file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(bytes)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, object_store::Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| generic(std::io::Error::other(error)))?
        .map_err(generic)
}

fn generic(error: std::io::Error) -> object_store::Error {
    object_store::Error::Generic {
        store: "LocalFileSystem",
        source: Box::new(error),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn chunks(total: usize, size: usize) -> Vec<Bytes> {
        let bytes: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
        bytes.chunks(size).map(Bytes::copy_from_slice).collect()
    }

    #[tokio::test]
    async fn parts_written_out_of_order_make_the_file_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload");
        // Parts of 10 bytes from chunks of 3, four parts in flight: parts end mid-chunk and
        // finish in any order.
        let mut staging = Staging::create(path.clone(), 10, 4).await.unwrap();
        let sent = chunks(1000, 3);
        for chunk in &sent {
            staging.write(chunk.clone()).await.unwrap();
        }
        staging.finish().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), sent.concat());
    }

    #[tokio::test]
    async fn an_aborted_or_dropped_upload_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let aborted = dir.path().join("aborted");
        let mut staging = Staging::create(aborted.clone(), 4, 2).await.unwrap();
        for chunk in chunks(100, 7) {
            staging.write(chunk).await.unwrap();
        }
        staging.abort().await.unwrap();
        assert!(!aborted.exists());

        let dropped = dir.path().join("dropped");
        let mut staging = Staging::create(dropped.clone(), 4, 2).await.unwrap();
        staging.write(Bytes::from_static(b"part")).await.unwrap();
        drop(staging);
        for _ in 0..100 {
            if !dropped.exists() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("a dropped upload's file is still there");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_file_is_the_offices_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload");
        let staging = Staging::create(path.clone(), 4, 2).await.unwrap();
        staging.finish().await.unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
