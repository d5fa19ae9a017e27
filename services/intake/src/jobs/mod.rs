//! Post-upload work: slow jobs on the bytes of evidence (perceptual hashing, RFC 3161
//! timestamping, reading C2PA Content Credentials), run after the upload has committed so that
//! they never slow it down; and, on the same queue for its retries, the periodic timestamp of
//! the audit chain's head.
//!
//! The queue is a table of intake's database. A job is enqueued in the upload's own transaction,
//! so a crash cannot lose it; a worker claims it with a lease (an `IMMEDIATE` transaction on
//! SQLite, `FOR UPDATE SKIP LOCKED` on PostgreSQL, so that replicas never claim the same job);
//! its result and its completion commit together, fenced by the claim, so a finished job is
//! never redone. A job whose worker died is claimed again when its lease runs out. Failures are
//! retried with a doubling backoff and, past [`MAX_ATTEMPTS`], kept as `failed` with their last
//! error: never dropped.

mod queue;
mod runner;
mod work;

pub use queue::{Claimed, JobQueue, JobState};
pub use runner::{JobOutcome, JobWork, Runner};
pub use work::PostUploadWork;

/// What a job does. Its code is what the table stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Perceptual hashes of an image, or of sampled frames of a video, for near-duplicates.
    PerceptualHash,
    /// An RFC 3161 timestamp of the content's SHA-256 from the configured authority.
    TrustedTime,
    /// The C2PA manifest (Content Credentials) embedded in the bytes, read and validated.
    ContentCredentials,
    /// An RFC 3161 timestamp of the audit chain's head (its subject is the head's entry hash).
    AuditHeadTime,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [
        JobKind::PerceptualHash,
        JobKind::TrustedTime,
        JobKind::ContentCredentials,
        JobKind::AuditHeadTime,
    ];

    pub fn code(self) -> &'static str {
        match self {
            JobKind::PerceptualHash => "perceptual_hash",
            JobKind::TrustedTime => "trusted_time",
            JobKind::ContentCredentials => "content_credentials",
            JobKind::AuditHeadTime => "audit_head_time",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }
}
