//! Near-duplicates: the same picture or video come back re-encoded, resized, cropped,
//! watermarked or trimmed, with other SHA-256s.
//!
//! After an upload commits, a [`crate::jobs`] job hashes its bytes perceptually ([`hashing`]);
//! the hashes are kept in `perceptual_hashes` (they are computed from the evidence bytes, not
//! from any sealed value, so storing them breaks no rule of DESIGN.md's "Trust") and in an
//! in-memory [`index`] rebuilt from that table at start.
//!
//! Two pictures are similar when their hashes are at most [`IMAGE_RADIUS`] bits apart. Two
//! videos are similar when at least [`VIDEO_MIN_FRACTION`] of the shorter one's sampled seconds
//! have a frame of the other within [`FRAME_RADIUS`] bits: trimming a few seconds off either end
//! removes frames but leaves the rest matched, and the order of frames is not needed.

pub mod hashing;
pub mod index;
mod store;

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use anyhow::Context;
use futures_util::StreamExt;
use sea_orm::entity::prelude::*;
use sea_orm::{DatabaseConnection, QueryOrder};
use tokio::io::AsyncWriteExt;

use docket_platform::audit::AuditRecord;
use docket_platform::journal;

use crate::entity::evidence;
use crate::evidence::{BlobStore, review};
use crate::jobs::{Claimed, JobKind, JobOutcome, JobQueue, JobState, JobWork};
use hashing::NotHashed;
pub use index::{HashIndex, Media};

/// Pictures at most this many bits apart are similar.
pub const IMAGE_RADIUS: u32 = 15;
/// Frames at most this many bits apart match.
pub const FRAME_RADIUS: u32 = 15;
/// Videos are similar when this share of the shorter one's frames match.
pub const VIDEO_MIN_FRACTION: f64 = 0.5;

/// Stored bytes similar to others.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub sha256: String,
    pub media: Media,
    /// Mean distance of the matching hashes, in bits.
    pub distance_bits: f64,
    /// Share of the shorter content's hashes that match (1 for pictures).
    pub matched_fraction: f64,
}

/// Where the perceptual hashing of some bytes stands.
#[derive(Debug, Clone, PartialEq)]
pub enum HashState {
    Pending,
    Hashed,
    NotHashable(String),
    Unsupported(String),
    Failed(String),
}

/// The hashes, their index, and the hashing jobs' work.
#[derive(Debug, Clone)]
pub struct Similarity {
    db: DatabaseConnection,
    blobs: BlobStore,
    index: Arc<RwLock<HashIndex>>,
    ffmpeg: String,
    /// Where videos are copied and their frames sampled, each in a private directory of its own.
    scratch: PathBuf,
}

impl Similarity {
    /// Loads the index from the database.
    pub async fn load(
        db: DatabaseConnection,
        blobs: BlobStore,
        ffmpeg: String,
        scratch: PathBuf,
    ) -> Result<Self, DbErr> {
        let index = store::load(&db).await?;
        tracing::info!(
            contents = index.len(),
            hashes = index.hash_count(),
            "perceptual hash index loaded"
        );
        Ok(Self {
            db,
            blobs,
            index: Arc::new(RwLock::new(index)),
            ffmpeg,
            scratch,
        })
    }

    /// Adds to the index what other replicas hashed since `since_ms` (milliseconds since the
    /// epoch); returns how many contents were added.
    pub async fn catch_up(&self, since_ms: i64) -> Result<usize, DbErr> {
        let backend = self.db.get_database_backend();
        let sql = format!(
            "SELECT subject FROM post_upload_jobs WHERE kind = {} AND state = {} \
             AND finished_ms >= {}",
            docket_platform::db::placeholder(backend, 1),
            docket_platform::db::placeholder(backend, 2),
            docket_platform::db::placeholder(backend, 3),
        );
        let rows = self
            .db
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                sql,
                [
                    JobKind::PerceptualHash.code().into(),
                    JobState::Done.code().into(),
                    since_ms.into(),
                ],
            ))
            .await?;
        let mut added = 0;
        for row in rows {
            let sha256: String = row.try_get_by_index(0)?;
            let known = self
                .index
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .hashes_of(&sha256)
                .is_some();
            if known {
                continue;
            }
            if let Some((media, hashes)) = store::read(&self.db, &sha256).await? {
                self.index
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(&sha256, media, &hashes);
                added += 1;
            }
        }
        Ok(added)
    }

    /// Keeps the index up with other replicas' hashing until `shutdown`.
    pub async fn follow(self, shutdown: docket_platform::shutdown::ShutdownSignal) {
        const EVERY: std::time::Duration = std::time::Duration::from_secs(5);
        let stop = shutdown.wait();
        tokio::pin!(stop);
        // Overlapping windows: a job finished just before a pass is seen by the next one.
        let mut since = chrono::Utc::now().timestamp_millis() - 60_000;
        loop {
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(EVERY) => {}
            }
            let now = chrono::Utc::now().timestamp_millis();
            match self.catch_up(since).await {
                Ok(_) => since = now - 2 * i64::try_from(EVERY.as_millis()).unwrap_or(0),
                Err(error) => tracing::warn!(%error, "the perceptual hash index cannot catch up"),
            }
        }
    }

    /// Stored contents similar to the content `sha256`, most similar first, at most `limit`;
    /// `None` when `sha256` has not been hashed. The content itself is never among them.
    pub fn similar_to(&self, sha256: &str, limit: usize) -> Option<Vec<Candidate>> {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        let (media, hashes) = index.hashes_of(sha256)?;
        Some(rank(&index, media, &hashes, sha256, limit))
    }

    /// Where the hashing of `sha256` stands.
    pub async fn state_of(&self, queue: &JobQueue, sha256: &str) -> Result<HashState, DbErr> {
        if self
            .index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .hashes_of(sha256)
            .is_some()
        {
            return Ok(HashState::Hashed);
        }
        Ok(
            match queue.state_of(JobKind::PerceptualHash, sha256).await? {
                None | Some((JobState::Pending | JobState::Running, _)) => HashState::Pending,
                // Done but not in the index: hashed a moment ago (by this replica, whose index is
                // updated just after the commit, or by another), or done without hashes.
                Some((JobState::Done, outcome)) => match store::read(&self.db, sha256).await? {
                    Some((media, hashes)) => {
                        self.index
                            .write()
                            .unwrap_or_else(PoisonError::into_inner)
                            .insert(sha256, media, &hashes);
                        HashState::Hashed
                    }
                    None => HashState::NotHashable(outcome.unwrap_or_default()),
                },
                Some((JobState::Unsupported, outcome)) => {
                    HashState::Unsupported(outcome.unwrap_or_default())
                }
                Some((JobState::Failed, outcome)) => HashState::Failed(outcome.unwrap_or_default()),
            },
        )
    }

    async fn hash(&self, sha256: &str) -> Result<(Media, Vec<u64>), NotHashed> {
        let Some(record) = evidence::Entity::find()
            .filter(evidence::Column::Sha256.eq(sha256))
            .order_by_asc(evidence::Column::Id)
            .one(&self.db)
            .await
            .map_err(anyhow::Error::from)?
        else {
            return Err(NotHashed::NotMedia(
                "not hashed: no evidence record has these bytes".to_owned(),
            ));
        };
        let media = hashing::media_of(record.detected_media_type.as_deref())?;
        match media {
            Media::Image => {
                if u64::try_from(record.size_bytes).unwrap_or(u64::MAX) > hashing::MAX_IMAGE_BYTES {
                    return Err(NotHashed::NotMedia(
                        "not hashed: the picture is too large to decode".to_owned(),
                    ));
                }
                let bytes = self.read_all(sha256).await?;
                let hashes = tokio::task::spawn_blocking(move || hashing::hash_image(&bytes))
                    .await
                    .map_err(|error| anyhow::anyhow!("hashing a picture: {error}"))??;
                Ok((media, hashes))
            }
            Media::Video => {
                std::fs::create_dir_all(&self.scratch)
                    .with_context(|| format!("cannot create {}", self.scratch.display()))?;
                // Private (0700) and removed when dropped, whatever happens.
                let dir = tempfile::Builder::new()
                    .prefix("frames-")
                    .tempdir_in(&self.scratch)
                    .context("cannot create a scratch directory")?;
                let video = dir.path().join("video");
                self.copy_to(sha256, &video).await?;
                let frames = dir.path().join("frames");
                std::fs::create_dir(&frames).context("cannot create the frames directory")?;
                let hashes = hashing::hash_video(&self.ffmpeg, &video, &frames).await?;
                Ok((media, hashes))
            }
        }
    }

    async fn read_all(&self, sha256: &str) -> anyhow::Result<Vec<u8>> {
        let mut stream = self.blobs.read(sha256).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        Ok(bytes)
    }

    async fn copy_to(&self, sha256: &str, path: &std::path::Path) -> anyhow::Result<()> {
        let mut stream = self.blobs.read(sha256).await?;
        let mut file = tokio::fs::File::create(path).await?;
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk?).await?;
        }
        file.flush().await?;
        Ok(())
    }
}

/// Candidates for `hashes` of `media` in `index`, best first, at most `limit`.
pub fn rank(
    index: &HashIndex,
    media: Media,
    hashes: &[u64],
    except: &str,
    limit: usize,
) -> Vec<Candidate> {
    let radius = match media {
        Media::Image => IMAGE_RADIUS,
        Media::Video => FRAME_RADIUS,
    };
    let mut candidates: Vec<Candidate> = index
        .near(hashes, media, radius, except)
        .into_iter()
        .filter_map(|near| {
            let shorter = hashes.len().min(near.stored_hashes).max(1);
            let fraction = (near.matched.len() as f64 / shorter as f64).min(1.0);
            let distance =
                f64::from(near.matched.iter().sum::<u32>()) / near.matched.len().max(1) as f64;
            let similar = match media {
                Media::Image => true,
                Media::Video => fraction >= VIDEO_MIN_FRACTION,
            };
            similar.then_some(Candidate {
                sha256: near.sha256,
                media,
                distance_bits: distance,
                matched_fraction: fraction,
            })
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.matched_fraction
            .total_cmp(&a.matched_fraction)
            .then(a.distance_bits.total_cmp(&b.distance_bits))
            .then_with(|| a.sha256.cmp(&b.sha256))
    });
    candidates.truncate(limit);
    candidates
}

impl JobWork for Similarity {
    async fn run(&self, queue: &JobQueue, job: &Claimed) -> anyhow::Result<JobOutcome> {
        if job.kind != JobKind::PerceptualHash {
            anyhow::bail!("not a perceptual-hashing job: {}", job.kind.code());
        }
        match self.hash(&job.subject).await {
            Ok((media, hashes)) => {
                let txn = queue.begin().await?;
                store::write(&txn, &job.subject, media, &hashes).await?;
                // Near-duplicates judged fabricated before these bytes were hashed flag them
                // (and a fabricated verdict on these bytes flags the near-duplicates), in the
                // transaction that stores the hashes.
                let near = {
                    let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
                    rank(&index, media, &hashes, &job.subject, review::MAX_FLAGGED)
                };
                let raised = review::after_hashing(&txn, &job.subject, &near).await?;
                if !raised.is_empty() {
                    let audit = AuditRecord {
                        subject: "docket".to_owned(),
                        role: "system".to_owned(),
                        method: "post-upload job".to_owned(),
                        target_ids: review::flag_targets(&raised),
                        outcome: "OK".to_owned(),
                        request_id: String::new(),
                        action: "flag near-duplicates of fabricated content for review".to_owned(),
                        count: 1,
                    };
                    journal::record(&txn, &audit, None).await?;
                }
                let outcome = match media {
                    Media::Image => "hashed: a picture".to_owned(),
                    Media::Video => format!("hashed: a video, {} frames", hashes.len()),
                };
                Ok(JobOutcome::Done { txn, outcome })
            }
            Err(NotHashed::NotMedia(why)) => Ok(JobOutcome::Done {
                txn: queue.begin().await?,
                outcome: why,
            }),
            Err(error @ NotHashed::NoFfmpeg(_)) => Ok(JobOutcome::Unsupported(error.to_string())),
            Err(NotHashed::Failed(error)) => Err(error),
        }
    }

    async fn committed(&self, job: &Claimed) {
        match store::read(&self.db, &job.subject).await {
            Ok(Some((media, hashes))) => self
                .index
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(&job.subject, media, &hashes),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, sha256 = %job.subject, "new perceptual hashes cannot be read back");
            }
        }
    }
}

/// Evidence records with each of `sha256s`, oldest first, at most `per_content` each.
pub async fn records_of<C: ConnectionTrait>(
    conn: &C,
    sha256s: &[String],
    per_content: usize,
) -> Result<std::collections::HashMap<String, Vec<Uuid>>, DbErr> {
    let mut found: std::collections::HashMap<String, Vec<Uuid>> = Default::default();
    if sha256s.is_empty() {
        return Ok(found);
    }
    let rows = evidence::Entity::find()
        .filter(evidence::Column::Sha256.is_in(sha256s.iter().cloned()))
        .order_by_asc(evidence::Column::Id)
        .all(conn)
        .await?;
    for row in rows {
        let ids = found.entry(row.sha256).or_default();
        if ids.len() < per_content {
            ids.push(row.id);
        }
    }
    Ok(found)
}
