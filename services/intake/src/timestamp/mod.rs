//! Trusted time: an RFC 3161 timestamp of each evidence file's SHA-256 from the time-stamping
//! authority (TSA) in `intake.timestamping`, proving the office held these bytes no later than
//! the authority's time.
//!
//! After an upload commits, a [`crate::jobs`] job of kind [`JobKind::TrustedTime`] asks the
//! authority ([`tsp::query`]), verifies the token it answers ([`tsp::verify`]) and only then
//! stores it, with the nonce it answers, in `trusted_timestamps`. An authority that is down or
//! answers nonsense fails the job, which the queue retries with a doubling backoff. Without an
//! authority configured no job is enqueued and nothing else changes. `VerifyEvidence` verifies
//! the stored token again, against the CA configured now, and reports its time.
//!
//! The token is computed from the SHA-256 of evidence bytes and a random nonce, never from a
//! sealed value (DESIGN.md, "Trust"); the authority learns the hash and nothing else.

mod heads;
pub mod tsp;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use docket_platform::db::placeholder;
use docket_platform::settings::TimestampingSettings;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, Value};
use uuid::Uuid;
use x509_cert::Certificate;

use crate::jobs::{Claimed, JobKind, JobOutcome, JobQueue};

/// `subject_kind` of a timestamp of evidence bytes.
const EVIDENCE: &str = "evidence";
/// `subject_kind` of a timestamp of the audit chain's head (its `entry_hash`).
const AUDIT_HEAD: &str = "audit_head";

pub use heads::{AuditHeads, follow};

/// What a job of `kind` stamps.
fn subject_kind(kind: JobKind) -> &'static str {
    match kind {
        JobKind::AuditHeadTime => AUDIT_HEAD,
        JobKind::TrustedTime | JobKind::PerceptualHash | JobKind::ContentCredentials => EVIDENCE,
    }
}

/// The configured authority.
#[derive(Debug)]
struct Authority {
    url: String,
    policy: Option<String>,
    client: reqwest::Client,
}

/// Timestamps: asking for them, keeping them, checking them.
#[derive(Debug, Clone)]
pub struct TrustedTime {
    db: DatabaseConnection,
    /// `None`: no authority configured; stored tokens are still shown.
    authority: Option<Arc<Authority>>,
    /// The CAs tokens must chain to (`ca_file`).
    trusted: Arc<Vec<Certificate>>,
    /// The policy tokens must carry, if configured.
    policy: Option<String>,
}

/// A stored token and what it answers.
#[derive(Debug, Clone)]
struct Stored {
    token: Vec<u8>,
    nonce: Vec<u8>,
    requested_policy: Option<String>,
}

impl TrustedTime {
    /// From `settings`: a `url` needs a `ca_file` of PEM certificates, and a `policy` must be a
    /// dotted OID; a `ca_file` alone still checks stored tokens.
    pub fn from_settings(
        db: DatabaseConnection,
        settings: &TimestampingSettings,
    ) -> anyhow::Result<Self> {
        let trusted = match &settings.ca_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read intake.timestamping.ca_file {}", path.display())
                })?;
                tsp::certificates_from_pem(&text)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| {
                        format!("intake.timestamping.ca_file {} is unusable", path.display())
                    })?
            }
            None => Vec::new(),
        };
        if let Some(policy) = &settings.policy {
            der::asn1::ObjectIdentifier::new(policy).map_err(|_| {
                anyhow::anyhow!("intake.timestamping.policy `{policy}` is not a dotted OID")
            })?;
        }
        let authority = match &settings.url {
            Some(url) => {
                anyhow::ensure!(
                    !trusted.is_empty(),
                    "intake.timestamping.url is set without intake.timestamping.ca_file: \
                     tokens could not be verified"
                );
                url::Url::parse(url)
                    .with_context(|| format!("intake.timestamping.url `{url}` is not a URL"))?;
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(settings.request_timeout_seconds.max(1)))
                    .build()
                    .context("cannot build the HTTP client of the time-stamping authority")?;
                Some(Arc::new(Authority {
                    url: url.clone(),
                    policy: settings.policy.clone(),
                    client,
                }))
            }
            None => None,
        };
        Ok(Self {
            db,
            authority,
            trusted: Arc::new(trusted),
            policy: settings.policy.clone(),
        })
    }

    /// Whether an authority is configured (and so uploads are timestamped).
    pub fn configured(&self) -> bool {
        self.authority.is_some()
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
        let Some(authority) = &self.authority else {
            return Ok(JobOutcome::Unsupported(
                "no time-stamping authority is configured (intake.timestamping.url)".to_owned(),
            ));
        };
        let sha256 = digest_bytes(&job.subject)?;
        let query = tsp::query(&sha256, authority.policy.as_deref()).map_err(anyhow::Error::msg)?;
        let reply = authority
            .client
            .post(&authority.url)
            .header("content-type", "application/timestamp-query")
            .header("accept", "application/timestamp-reply")
            .body(query.der.clone())
            .send()
            .await
            .with_context(|| {
                format!(
                    "the time-stamping authority {} cannot be reached",
                    authority.url
                )
            })?
            .error_for_status()
            .with_context(|| format!("the time-stamping authority {} refused", authority.url))?
            .bytes()
            .await
            .context("the time-stamping authority's answer broke off")?;
        let token = tsp::token_of_reply(&reply).map_err(anyhow::Error::msg)?;
        let stamp = tsp::verify(
            &token,
            tsp::Expected {
                sha256: &sha256,
                nonce: &query.nonce,
                policy: authority.policy.as_deref(),
            },
            &self.trusted,
        )
        .map_err(|why| anyhow::anyhow!("the authority's token does not verify: {why}"))?;
        let txn = queue.begin().await?;
        let backend = txn.get_database_backend();
        let p = |n| placeholder(backend, n);
        let sql = format!(
            "INSERT INTO trusted_timestamps (id, subject_kind, subject, token, nonce, \
             requested_policy, authority_url, authority, gen_time, gen_time_ms, serial, policy, \
             created_ms) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) \
             ON CONFLICT (subject_kind, subject) DO NOTHING",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            p(8),
            p(9),
            p(10),
            p(11),
            p(12),
            p(13)
        );
        let values: Vec<Value> = vec![
            Uuid::now_v7().into(),
            subject_kind(job.kind).into(),
            job.subject.clone().into(),
            token.into(),
            hex::encode(&query.nonce).into(),
            authority.policy.clone().into(),
            authority.url.clone().into(),
            stamp.authority.clone().into(),
            stamp.time_text.clone().into(),
            stamp.time.timestamp_millis().into(),
            stamp.serial.clone().into(),
            stamp.policy.clone().into(),
            Utc::now().timestamp_millis().into(),
        ];
        txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
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
        let Some(stored) = self.stored(EVIDENCE, sha256).await? else {
            return Ok(None);
        };
        let shown = match digest_bytes(sha256) {
            Ok(digest) => self.check(&stored, &digest),
            Err(error) => Err(error.to_string()),
        };
        Ok(Some(match shown {
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

    fn check(&self, stored: &Stored, sha256: &[u8; 32]) -> Result<tsp::Stamp, String> {
        // The policy asked for when the token was obtained; one configured since must hold too.
        let policy = self
            .policy
            .as_deref()
            .or(stored.requested_policy.as_deref());
        tsp::verify(
            &stored.token,
            tsp::Expected {
                sha256,
                nonce: &stored.nonce,
                policy,
            },
            &self.trusted,
        )
    }

    async fn stored(&self, kind: &str, subject: &str) -> Result<Option<Stored>, DbErr> {
        let backend = self.db.get_database_backend();
        let sql = format!(
            "SELECT token, nonce, requested_policy FROM trusted_timestamps WHERE subject_kind = \
             {} AND subject = {}",
            placeholder(backend, 1),
            placeholder(backend, 2)
        );
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [kind.into(), subject.into()],
            ))
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let nonce: String = row.try_get_by_index(1)?;
        Ok(Some(Stored {
            token: row.try_get_by_index(0)?,
            nonce: hex::decode(nonce).unwrap_or_default(),
            requested_policy: row.try_get_by_index(2)?,
        }))
    }
}

fn digest_bytes(sha256: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = hex::decode(sha256).with_context(|| format!("`{sha256}` is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("`{sha256}` is not a SHA-256"))
}
