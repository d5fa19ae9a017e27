//! Trusted time: an RFC 3161 timestamp of each evidence file's SHA-256 from the time-stamping
//! authority (TSA) in `intake.timestamping`, proving the office held these bytes no later than
//! the authority's time.
//!
//! After an upload commits, a [`crate::jobs`] job of kind [`JobKind::TrustedTime`] asks the
//! authority, which verifies the token it answers and only then stores it, with the nonce it
//! answers, in `trusted_timestamps` (all of which is [`docket_platform::timestamp`], shared with
//! the other services for their audit heads). An authority that is down or answers nonsense
//! fails the job, which the queue retries with a doubling backoff. Without an authority
//! configured no job is enqueued and nothing else changes. `VerifyEvidence` verifies the stored
//! token again, against the CA configured now, and reports its time.
//!
//! The token is computed from the SHA-256 of evidence bytes and a random nonce, never from a
//! sealed value (DESIGN.md, "Trust"); the authority learns the hash and nothing else.

mod heads;

use anyhow::Context;
use docket_platform::db::placeholder;
use docket_platform::settings::TimestampingSettings;
use docket_platform::timestamp::{self as platform, AUDIT_HEAD, AuditHeads};
use docket_proto::docket::intake::v1 as pb;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

use crate::jobs::{Claimed, JobKind, JobOutcome, JobQueue};

/// `subject_kind` of a timestamp of evidence bytes.
const EVIDENCE: &str = "evidence";

pub use heads::follow;

/// What a job of `kind` stamps.
fn subject_kind(kind: JobKind) -> &'static str {
    match kind {
        JobKind::AuditHeadTime => AUDIT_HEAD,
        JobKind::TrustedTime | JobKind::PerceptualHash | JobKind::ContentCredentials => EVIDENCE,
    }
}

/// Timestamps of evidence and of the audit head: asked for on the job queue, kept, checked.
#[derive(Debug, Clone)]
pub struct TrustedTime {
    db: DatabaseConnection,
    time: platform::TrustedTime,
}

impl TrustedTime {
    /// From `settings` (`intake.timestamping`): a `url` needs a `ca_file` of PEM certificates,
    /// and a `policy` must be a dotted OID; a `ca_file` alone still checks stored tokens.
    pub fn from_settings(
        db: DatabaseConnection,
        settings: &TimestampingSettings,
    ) -> anyhow::Result<Self> {
        let time =
            platform::TrustedTime::from_settings(db.clone(), settings, "intake.timestamping")?;
        Ok(Self { db, time })
    }

    /// Whether an authority is configured (and so uploads are timestamped).
    pub fn configured(&self) -> bool {
        self.time.configured()
    }

    /// The latest timestamps of the audit chain's head, for `VerifyAuditChain`.
    pub fn audit_heads(&self) -> AuditHeads {
        AuditHeads::new(self.time.clone())
    }

    /// Enqueues a timestamp for every stored content that has neither one nor a job for one
    /// (evidence stored before an authority was configured); returns how many.
    pub async fn enqueue_missing(&self) -> Result<u64, DbErr> {
        if !self.configured() {
            return Ok(0);
        }
        let backend = self.db.get_database_backend();
        let sql = format!(
            "SELECT DISTINCT e.sha256 FROM evidence e WHERE NOT EXISTS (SELECT 1 FROM \
             post_upload_jobs j WHERE j.kind = {} AND j.subject = e.sha256) ORDER BY e.sha256",
            placeholder(backend, 1)
        );
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [JobKind::TrustedTime.code().into()],
            ))
            .await?;
        let mut enqueued = 0;
        for row in rows {
            let sha256: String = row.try_get_by_index(0)?;
            JobQueue::enqueue(&self.db, JobKind::TrustedTime, &sha256).await?;
            enqueued += 1;
        }
        Ok(enqueued)
    }

    /// The job: asks the authority for a timestamp of `job.subject` (the SHA-256 of evidence
    /// bytes, or the audit chain's head hash), verifies it and keeps it with the job's
    /// completion. Any failure (authority down, refusal, a token that does not
    /// verify) is an error, retried with backoff.
    pub async fn run(&self, queue: &JobQueue, job: &Claimed) -> anyhow::Result<JobOutcome> {
        if !self.configured() {
            return Ok(JobOutcome::Unsupported(
                "no time-stamping authority is configured (intake.timestamping.url)".to_owned(),
            ));
        }
        let sha256 = platform::digest_bytes(&job.subject)
            .map_err(anyhow::Error::msg)
            .context("a timestamp job's subject is not a SHA-256")?;
        let granted = self.time.ask(&sha256).await?;
        let txn = queue.begin().await?;
        granted
            .store(&txn, subject_kind(job.kind), &job.subject)
            .await?;
        let stamp = granted.stamp;
        Ok(JobOutcome::Done {
            txn,
            outcome: format!(
                "timestamped {} by {} (serial {})",
                stamp.time.to_rfc3339(),
                stamp.authority,
                stamp.serial
            ),
        })
    }

    /// The stored timestamp of `sha256`, verified again against the CA configured now; `None`
    /// when there is none.
    pub async fn proof(&self, sha256: &str) -> Result<Option<pb::TrustedTimestamp>, DbErr> {
        let Some(stored) = self.time.stored(EVIDENCE, sha256).await? else {
            return Ok(None);
        };
        Ok(Some(match stored.checked {
            Ok(stamp) => pb::TrustedTimestamp {
                time: Some(docket_proto::timestamp(stamp.time)),
                authority: stamp.authority,
                policy: stamp.policy,
                serial_number: stamp.serial,
                verified: true,
                problem: String::new(),
                token: stored.token.into(),
            },
            Err(problem) => {
                tracing::error!(%sha256, %problem, "A STORED TIMESTAMP FAILED VERIFICATION");
                pb::TrustedTimestamp {
                    verified: false,
                    problem,
                    token: stored.token.into(),
                    ..Default::default()
                }
            }
        }))
    }
}
