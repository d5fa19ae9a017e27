//! Trusted time for the audit chain: its head is timestamped periodically, so that a rewrite of
//! the whole chain and its head (which the chain alone cannot show, see [`crate::audit`]) shows
//! after the first stamp: the stamped entry is no longer there.
//!
//! [`follow`] is the loop of a service without a job queue (case management, reporting): every
//! `audit_head_interval_seconds`, and at once at each start, it reads the head and, unless that
//! hash already has a token in `trusted_timestamps` (`audit_head`), asks the authority
//! ([`stamp_head`]). An authority that is down, refuses or answers a token that does not verify
//! is asked again after a doubling backoff (5 s, 10 s, … up to the period), each time for the
//! head as it is then. Nothing is queued and nothing is ever given up: a head not yet stamped is
//! simply stamped at the next attempt, or after a restart, at the start. Replicas may each ask
//! for the same head once in a while; the first token stored is kept. Intake has a job queue
//! with retries of its own and enqueues its heads there instead, storing them the same way.
//! Nothing here is audited: an entry would move the head it stamps.
//!
//! [`AuditHeads`] shows the latest stamp in `VerifyAuditChain`, verified again, and says when
//! the stamped entry is gone from the chain.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use docket_proto::docket::audit::v1 as audit;
use sea_orm::{ConnectionTrait, DbErr, Statement};

use super::{AskError, TrustedTime, digest_bytes, tsp};
use crate::audit::HeadTimestamps;
use crate::db::placeholder;
use crate::shutdown::ShutdownSignal;

/// `subject_kind` of a timestamp of the audit chain's head (its `entry_hash`).
pub const AUDIT_HEAD: &str = "audit_head";

/// The first wait after a failed attempt; it doubles with each failure, up to the period.
const FIRST_RETRY: Duration = Duration::from_secs(5);

/// The chain's head: its sequence and hash; `None` while the chain is empty.
pub async fn audit_head<C: ConnectionTrait>(conn: &C) -> Result<Option<(i64, String)>, DbErr> {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT last_sequence, last_hash FROM audit_head WHERE id = 1",
        ))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let sequence: i64 = row.try_get_by_index(0)?;
    Ok((sequence > 0).then_some((sequence, row.try_get_by_index(1)?)))
}

/// Why the head could not be stamped this time.
#[derive(Debug, thiserror::Error)]
pub enum HeadStampError {
    #[error("the audit head cannot be read or its timestamp kept")]
    Database(#[from] DbErr),
    #[error("the head {head_hash} cannot be timestamped")]
    Ask {
        head_hash: String,
        #[source]
        source: AskError,
    },
}

/// Asks for a timestamp of the chain's head unless it has one; returns what the new token says
/// (`None`: empty chain, or the head is stamped already).
pub async fn stamp_head(trusted_time: &TrustedTime) -> Result<Option<tsp::Stamp>, HeadStampError> {
    let Some((_, hash)) = audit_head(&trusted_time.db).await? else {
        return Ok(None);
    };
    if stamped(trusted_time, &hash).await? {
        return Ok(None);
    }
    let ask = |source| HeadStampError::Ask {
        head_hash: hash.clone(),
        source,
    };
    // The head is the entry_hash the chain wrote: always a SHA-256 in hex.
    let sha256 = digest_bytes(&hash).map_err(|why| ask(AskError::Query(why)))?;
    let granted = trusted_time.ask(&sha256).await.map_err(ask)?;
    granted.store(&trusted_time.db, AUDIT_HEAD, &hash).await?;
    Ok(Some(granted.stamp))
}

async fn stamped(trusted_time: &TrustedTime, hash: &str) -> Result<bool, DbErr> {
    let backend = trusted_time.db.get_database_backend();
    let sql = format!(
        "SELECT COUNT(*) FROM trusted_timestamps WHERE subject_kind = {} AND subject = {}",
        placeholder(backend, 1),
        placeholder(backend, 2)
    );
    let row = trusted_time
        .db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [AUDIT_HEAD.into(), hash.into()],
        ))
        .await?;
    let count: i64 = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(count > 0)
}

/// Stamps the audit head at once and then every `period`, retrying a failed attempt with a
/// doubling backoff, until `shutdown`. Does nothing without an authority, or with a zero period.
pub async fn follow(trusted_time: TrustedTime, period: Duration, shutdown: ShutdownSignal) {
    if period.is_zero() || !trusted_time.configured() {
        return;
    }
    let stop = shutdown.wait();
    tokio::pin!(stop);
    // At once: restarts more frequent than the period must not keep the head from ever being
    // stamped.
    let mut wait = Duration::ZERO;
    let mut retry = FIRST_RETRY;
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(wait) => {}
        }
        // A request to the authority may take `request_timeout_seconds`: not a shutdown's.
        let attempt = tokio::select! {
            () = &mut stop => return,
            attempt = stamp_head(&trusted_time) => attempt,
        };
        wait = match attempt {
            Ok(stamp) => {
                if let Some(stamp) = stamp {
                    tracing::info!(time = %stamp.time.to_rfc3339(), authority = %stamp.authority,
                        "the audit chain's head is timestamped");
                }
                retry = FIRST_RETRY;
                period
            }
            Err(error) => {
                let next = retry.min(period);
                tracing::warn!(error = %format!("{:#}", anyhow::Error::new(error)),
                    retry_in_seconds = next.as_secs_f64(), "the audit head is not timestamped yet");
                retry = retry.saturating_mul(2);
                next
            }
        };
    }
}

/// The latest timestamp of the audit chain's head, for `VerifyAuditChain`.
#[derive(Debug, Clone)]
pub struct AuditHeads {
    trusted_time: TrustedTime,
}

impl AuditHeads {
    pub fn new(trusted_time: TrustedTime) -> Self {
        Self { trusted_time }
    }

    async fn latest_stamp(&self) -> Result<Option<audit::HeadTimestamp>, DbErr> {
        let db = &self.trusted_time.db;
        let backend = db.get_database_backend();
        let sql = format!(
            "SELECT subject FROM trusted_timestamps WHERE subject_kind = {} \
             ORDER BY gen_time_ms DESC, created_ms DESC LIMIT 1",
            placeholder(backend, 1)
        );
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [AUDIT_HEAD.into()],
            ))
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let hash: String = row.try_get_by_index(0)?;
        let Some(stored) = self.trusted_time.stored(AUDIT_HEAD, &hash).await? else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT sequence FROM audit_entries WHERE entry_hash = {}",
            placeholder(backend, 1)
        );
        let sequence: Option<i64> = match db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [hash.clone().into()],
            ))
            .await?
        {
            Some(row) => Some(row.try_get_by_index(0)?),
            None => None,
        };
        let token = stored.token.into();
        Ok(Some(match (stored.checked, sequence) {
            (Ok(stamp), Some(sequence)) => audit::HeadTimestamp {
                sequence,
                head_hash: hash,
                time: Some(docket_proto::timestamp(stamp.time)),
                authority: stamp.authority,
                policy: stamp.policy,
                serial_number: stamp.serial,
                verified: true,
                problem: String::new(),
                token,
            },
            (Ok(stamp), None) => audit::HeadTimestamp {
                sequence: 0,
                time: Some(docket_proto::timestamp(stamp.time)),
                problem: format!(
                    "no entry of the chain has the stamped hash {hash}: the chain was rewritten \
                     after it was timestamped"
                ),
                head_hash: hash,
                authority: stamp.authority,
                policy: stamp.policy,
                serial_number: stamp.serial,
                verified: false,
                token,
            },
            (Err(problem), sequence) => audit::HeadTimestamp {
                sequence: sequence.unwrap_or_default(),
                head_hash: hash,
                verified: false,
                problem,
                token,
                ..Default::default()
            },
        }))
    }
}

impl HeadTimestamps for AuditHeads {
    fn latest(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<Option<audit::HeadTimestamp>, DbErr>> + Send + '_>>
    {
        Box::pin(self.latest_stamp())
    }
}
