//! Trusted time for the audit chain: its head is timestamped periodically, so that a rewrite of
//! the whole chain and its head (which the chain alone cannot show, see
//! `docket_platform::audit`) shows after the first stamp: the stamped entry is no longer there.
//!
//! Every `audit_head_interval_seconds` the head's entry hash is enqueued as a job of kind
//! [`JobKind::AuditHeadTime`] on the post-upload queue, which asks the authority, verifies the
//! token exactly as for evidence and stores it in `trusted_timestamps` (`audit_head`), with the
//! queue's retries and backoff. A head already stamped (or waiting to be) is not asked again;
//! replicas enqueue the same head only once. Nothing here is audited: an entry would move the
//! head it stamps.
//!
//! The same loop makes timestamp jobs given up after a long outage due again every
//! `retry_given_up_interval_seconds`, so that a running replica does not wait for its next
//! start to ask again.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use docket_platform::audit::HeadTimestamps;
use docket_platform::db::placeholder;
use docket_platform::settings::TimestampingSettings;
use docket_platform::shutdown::ShutdownSignal;
use docket_proto::docket::audit::v1 as audit;
use sea_orm::{ConnectionTrait, DbErr, Statement};

use super::{AUDIT_HEAD, TrustedTime, digest_bytes};
use crate::jobs::{JobKind, JobQueue, Runner};

/// The hash of the chain's head, and its sequence; `None` while the chain is empty.
async fn head<C: ConnectionTrait>(conn: &C) -> Result<Option<(i64, String)>, DbErr> {
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

/// Enqueues a timestamp of the chain's head, unless it has one or a job for one. Returns
/// whether a job was added.
pub async fn enqueue_head(trusted_time: &TrustedTime) -> Result<bool, DbErr> {
    let Some((_, hash)) = head(&trusted_time.db).await? else {
        return Ok(false);
    };
    let before = count_jobs(trusted_time, &hash).await?;
    JobQueue::enqueue(&trusted_time.db, JobKind::AuditHeadTime, &hash).await?;
    Ok(count_jobs(trusted_time, &hash).await? > before)
}

async fn count_jobs(trusted_time: &TrustedTime, hash: &str) -> Result<i64, DbErr> {
    let backend = trusted_time.db.get_database_backend();
    let sql = format!(
        "SELECT COUNT(*) FROM post_upload_jobs WHERE kind = {} AND subject = {}",
        placeholder(backend, 1),
        placeholder(backend, 2)
    );
    let row = trusted_time
        .db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [JobKind::AuditHeadTime.code().into(), hash.into()],
        ))
        .await?;
    match row {
        Some(row) => row.try_get_by_index(0),
        None => Ok(0),
    }
}

/// Stamps the audit head every `audit_head_interval_seconds` and makes given-up timestamp jobs
/// due again every `retry_given_up_interval_seconds`, until `shutdown`. Does nothing without an
/// authority.
pub async fn follow(
    trusted_time: TrustedTime,
    runner: Runner,
    settings: TimestampingSettings,
    shutdown: ShutdownSignal,
) {
    if !trusted_time.configured() {
        return;
    }
    let every = |seconds: u64| (seconds > 0).then(|| Duration::from_secs(seconds));
    let stamp_every = every(settings.audit_head_interval_seconds);
    let sweep_every = every(settings.retry_given_up_interval_seconds);
    if stamp_every.is_none() && sweep_every.is_none() {
        return;
    }
    // A period that never comes, for the one that is off.
    let far = Duration::from_secs(100 * 365 * 24 * 3600);
    let stop = shutdown.wait();
    tokio::pin!(stop);
    // The head is stamped at once (restarts more frequent than the period must not keep it
    // from ever being stamped); the sweep follows the one every start does.
    let mut stamp = tokio::time::interval_at(
        tokio::time::Instant::now() + stamp_every.map_or(far, |_| Duration::ZERO),
        stamp_every.unwrap_or(far),
    );
    let mut sweep = tokio::time::interval_at(
        tokio::time::Instant::now() + sweep_every.unwrap_or(far),
        sweep_every.unwrap_or(far),
    );
    stamp.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = stamp.tick() => match enqueue_head(&trusted_time).await {
                Ok(true) => runner.enqueued(),
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "the audit head cannot be queued for a timestamp"),
            },
            _ = sweep.tick() => {
                let mut again = 0;
                for kind in [JobKind::TrustedTime, JobKind::AuditHeadTime] {
                    match runner.queue().retry_given_up(kind).await {
                        Ok(count) => again += count,
                        Err(error) => tracing::warn!(%error, "given-up timestamps cannot be retried"),
                    }
                }
                if again > 0 {
                    tracing::info!(jobs = again, "asking again for timestamps given up in an outage");
                    runner.enqueued();
                }
            }
        }
    }
}

/// The latest timestamps of the audit chain's head, for `VerifyAuditChain`.
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
        let checked = match digest_bytes(&hash) {
            Ok(digest) => self.trusted_time.check(&stored, &digest),
            Err(error) => Err(error.to_string()),
        };
        let token = stored.token.into();
        Ok(Some(match (checked, sequence) {
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
