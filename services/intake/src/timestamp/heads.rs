//! Trusted time for intake's audit chain: its head is timestamped periodically (see
//! `docket_platform::timestamp`, which stores the tokens and shows the latest in
//! `VerifyAuditChain` for every service).
//!
//! Unlike case management and reporting, which ask the authority from a loop of their own,
//! intake has a job queue: every `audit_head_interval_seconds` the head's entry hash is enqueued
//! as a job of kind [`JobKind::AuditHeadTime`], which asks the authority, verifies the token
//! exactly as for evidence and stores it in `trusted_timestamps` (`audit_head`), with the
//! queue's retries and backoff. A head already stamped (or waiting to be) is not asked again;
//! replicas enqueue the same head only once. Nothing here is audited: an entry would move the
//! head it stamps.
//!
//! The same loop makes timestamp jobs given up after a long outage due again every
//! `retry_given_up_interval_seconds`, so that a running replica does not wait for its next
//! start to ask again.

use std::time::Duration;

use docket_platform::db::placeholder;
use docket_platform::settings::TimestampingSettings;
use docket_platform::shutdown::ShutdownSignal;
use docket_platform::timestamp::audit_head;
use sea_orm::{ConnectionTrait, DbErr, Statement};

use super::TrustedTime;
use crate::jobs::{JobKind, JobQueue, Runner};

/// Enqueues a timestamp of the chain's head, unless it has one or a job for one. Returns
/// whether a job was added.
pub async fn enqueue_head(trusted_time: &TrustedTime) -> Result<bool, DbErr> {
    let Some((_, hash)) = audit_head(&trusted_time.db).await? else {
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
