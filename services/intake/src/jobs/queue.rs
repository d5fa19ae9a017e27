//! The job table: enqueue inside a caller's transaction, claim under a lease, finish fenced by
//! the claim, retry with backoff, give up into `failed`.

use chrono::Utc;
use docket_platform::db::{begin_write, placeholder};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, Statement,
    Value,
};
use uuid::Uuid;

use super::JobKind;

/// Attempts before a job is given up as `failed` (a worker that died mid-job counts too).
pub const MAX_ATTEMPTS: i32 = 8;

/// The first retry waits this long; each further one twice as long, up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 5_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a worker, whose lease runs until `lease_until_ms`.
    Running,
    /// Finished; `outcome` says what came of it.
    Done,
    /// Could not be done on this installation (a missing tool); tried again at the next start
    /// that has it. `outcome` says why.
    Unsupported,
    /// Given up after [`MAX_ATTEMPTS`]; `outcome` holds the last error.
    Failed,
}

impl JobState {
    pub fn code(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Unsupported => "unsupported",
            JobState::Failed => "failed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            JobState::Pending,
            JobState::Running,
            JobState::Done,
            JobState::Unsupported,
            JobState::Failed,
        ]
        .into_iter()
        .find(|state| state.code() == code)
    }
}

/// A job a worker holds: finishing it needs this very claim.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub kind: JobKind,
    /// What the job is about: the SHA-256 of the content.
    pub subject: String,
    /// This attempt's number, from 1; with `holder`, the fence of the claim.
    pub attempt: i32,
}

/// The queue in intake's database.
#[derive(Debug, Clone)]
pub struct JobQueue {
    db: DatabaseConnection,
    /// Who claims: unique per process, so that a claim is told from a later one.
    holder: String,
    lease_ms: i64,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn backoff_ms(attempt: i32) -> i64 {
    let doublings = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    FIRST_BACKOFF_MS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_BACKOFF_MS)
}

impl JobQueue {
    pub fn new(db: DatabaseConnection, lease: std::time::Duration) -> Self {
        Self {
            db,
            holder: format!("{}-{}", std::process::id(), Uuid::now_v7()),
            lease_ms: i64::try_from(lease.as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// Adds a job of `kind` about `subject` in `txn`, unless one exists already.
    pub async fn enqueue<C: ConnectionTrait>(
        conn: &C,
        kind: JobKind,
        subject: &str,
    ) -> Result<(), DbErr> {
        let backend = conn.get_database_backend();
        let p = |n| placeholder(backend, n);
        let sql = format!(
            "INSERT INTO post_upload_jobs (id, kind, subject, state, attempts, next_attempt_ms, \
             created_ms) VALUES ({}, {}, {}, {}, 0, {}, {}) \
             ON CONFLICT (kind, subject) DO NOTHING",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6)
        );
        let now = now_ms();
        let values: Vec<Value> = vec![
            Uuid::now_v7().into(),
            kind.code().into(),
            subject.into(),
            JobState::Pending.code().into(),
            now.into(),
            now.into(),
        ];
        conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        Ok(())
    }

    /// Claims up to `limit` due jobs (new, retried, or left by a worker whose lease ran out).
    pub async fn claim(&self, limit: usize) -> Result<Vec<Claimed>, DbErr> {
        let backend = self.db.get_database_backend();
        let p = |n| placeholder(backend, n);
        let now = now_ms();
        let txn = begin_write(&self.db).await?;
        // Jobs whose worker died too often are given up first, so they are not claimed again.
        let sql = format!(
            "UPDATE post_upload_jobs SET state = {}, lease_until_ms = NULL, leased_by = NULL, \
             finished_ms = {}, outcome = {} \
             WHERE state = {} AND lease_until_ms < {} AND attempts >= {}",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6)
        );
        let values: Vec<Value> = vec![
            JobState::Failed.code().into(),
            now.into(),
            "given up: its worker stopped before finishing it at every attempt".into(),
            JobState::Running.code().into(),
            now.into(),
            MAX_ATTEMPTS.into(),
        ];
        txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        // SQLite: the IMMEDIATE transaction holds the write lock, so no two claims overlap.
        let lock = if backend == DatabaseBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE post_upload_jobs SET state = {running}, attempts = attempts + 1, \
             lease_until_ms = {lease}, leased_by = {holder} \
             WHERE id IN (SELECT id FROM post_upload_jobs \
             WHERE (state = {pending} AND next_attempt_ms <= {now}) \
             OR (state = {running2} AND lease_until_ms < {now2}) \
             ORDER BY next_attempt_ms LIMIT {limit}{lock}) \
             RETURNING id, kind, subject, attempts",
            running = p(1),
            lease = p(2),
            holder = p(3),
            pending = p(4),
            now = p(5),
            running2 = p(6),
            now2 = p(7),
            limit = p(8),
        );
        let values: Vec<Value> = vec![
            JobState::Running.code().into(),
            now.saturating_add(self.lease_ms).into(),
            self.holder.clone().into(),
            JobState::Pending.code().into(),
            now.into(),
            JobState::Running.code().into(),
            now.into(),
            i64::try_from(limit).unwrap_or(i64::MAX).into(),
        ];
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        txn.commit().await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let id: Uuid = row.try_get_by_index(0)?;
            let kind: String = row.try_get_by_index(1)?;
            let Some(kind) = JobKind::from_code(&kind) else {
                // A job of a kind a newer version added: left for that version (its lease will
                // run out and it stays claimable).
                tracing::warn!(%id, kind, "a post-upload job of an unknown kind: left alone");
                continue;
            };
            claimed.push(Claimed {
                id,
                kind,
                subject: row.try_get_by_index(2)?,
                attempt: row.try_get_by_index(3)?,
            });
        }
        Ok(claimed)
    }

    /// Begins the transaction that finishes `job`: the caller writes the job's result in it,
    /// then hands it to [`JobQueue::finish`].
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        begin_write(&self.db).await
    }

    /// Marks `job` `state` (done or unsupported) with `outcome` in `txn` and commits, if the
    /// claim still holds; otherwise rolls back (another worker took the job over) and says so.
    pub async fn finish(
        &self,
        txn: DatabaseTransaction,
        job: &Claimed,
        state: JobState,
        outcome: &str,
    ) -> Result<bool, DbErr> {
        let backend = txn.get_database_backend();
        let p = |n| placeholder(backend, n);
        let sql = format!(
            "UPDATE post_upload_jobs SET state = {}, outcome = {}, finished_ms = {}, \
             lease_until_ms = NULL, leased_by = NULL \
             WHERE id = {} AND leased_by = {} AND attempts = {} AND state = {}",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7)
        );
        let values: Vec<Value> = vec![
            state.code().into(),
            outcome.into(),
            now_ms().into(),
            job.id.into(),
            self.holder.clone().into(),
            job.attempt.into(),
            JobState::Running.code().into(),
        ];
        let updated = txn
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        if updated.rows_affected() == 1 {
            txn.commit().await?;
            Ok(true)
        } else {
            txn.rollback().await?;
            Ok(false)
        }
    }

    /// Records that an attempt at `job` failed with `error`: it waits for its next attempt, or
    /// is given up as failed after the last one.
    pub async fn failed(&self, job: &Claimed, error: &str) -> Result<(), DbErr> {
        let backend = self.db.get_database_backend();
        let p = |n| placeholder(backend, n);
        let now = now_ms();
        let (state, outcome) = if job.attempt >= MAX_ATTEMPTS {
            (
                JobState::Failed,
                format!("given up after {} attempts: {error}", job.attempt),
            )
        } else {
            (
                JobState::Pending,
                format!("attempt {} failed: {error}", job.attempt),
            )
        };
        let finished: Option<i64> = (state == JobState::Failed).then_some(now);
        let sql = format!(
            "UPDATE post_upload_jobs SET state = {}, outcome = {}, next_attempt_ms = {}, \
             finished_ms = {}, lease_until_ms = NULL, leased_by = NULL \
             WHERE id = {} AND leased_by = {} AND attempts = {}",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7)
        );
        let values: Vec<Value> = vec![
            state.code().into(),
            outcome.into(),
            now.saturating_add(backoff_ms(job.attempt)).into(),
            finished.into(),
            job.id.into(),
            self.holder.clone().into(),
            job.attempt.into(),
        ];
        self.db
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        Ok(())
    }

    /// Gives a job back untouched (its worker is stopping): due again at once, the attempt not
    /// counted.
    pub async fn release(&self, job: &Claimed) -> Result<(), DbErr> {
        let backend = self.db.get_database_backend();
        let p = |n| placeholder(backend, n);
        let sql = format!(
            "UPDATE post_upload_jobs SET state = {}, attempts = attempts - 1, \
             lease_until_ms = NULL, leased_by = NULL \
             WHERE id = {} AND leased_by = {} AND attempts = {} AND state = {}",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5)
        );
        let values: Vec<Value> = vec![
            JobState::Pending.code().into(),
            job.id.into(),
            self.holder.clone().into(),
            job.attempt.into(),
            JobState::Running.code().into(),
        ];
        self.db
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        Ok(())
    }

    /// Makes every job of `kind` set aside as unsupported due again (the missing tool is here
    /// now). Returns how many.
    pub async fn retry_unsupported(&self, kind: JobKind) -> Result<u64, DbErr> {
        self.make_due(kind, JobState::Unsupported).await
    }

    /// Makes every job of `kind` given up as failed due again, from its first attempt (an
    /// outage outlasted the retries; a start is the operator's moment to try once more). Returns
    /// how many.
    pub async fn retry_given_up(&self, kind: JobKind) -> Result<u64, DbErr> {
        self.make_due(kind, JobState::Failed).await
    }

    /// Makes every job of `kind` in state `from` pending and due now. A job given up as failed
    /// starts over from its first attempt; an unsupported one keeps its count.
    async fn make_due(&self, kind: JobKind, from: JobState) -> Result<u64, DbErr> {
        let backend = self.db.get_database_backend();
        let p = |n| placeholder(backend, n);
        let restart = if from == JobState::Failed {
            "attempts = 0, "
        } else {
            ""
        };
        let sql = format!(
            "UPDATE post_upload_jobs SET state = {}, {restart}next_attempt_ms = {}, \
             finished_ms = NULL WHERE kind = {} AND state = {}",
            p(1),
            p(2),
            p(3),
            p(4)
        );
        let values: Vec<Value> = vec![
            JobState::Pending.code().into(),
            now_ms().into(),
            kind.code().into(),
            from.code().into(),
        ];
        let result = self
            .db
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        Ok(result.rows_affected())
    }

    /// The state of the job of `kind` about `subject`, and its outcome, if there is one.
    pub async fn state_of(
        &self,
        kind: JobKind,
        subject: &str,
    ) -> Result<Option<(JobState, Option<String>)>, DbErr> {
        let backend = self.db.get_database_backend();
        let sql = format!(
            "SELECT state, outcome FROM post_upload_jobs WHERE kind = {} AND subject = {}",
            placeholder(backend, 1),
            placeholder(backend, 2)
        );
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [kind.code().into(), subject.into()],
            ))
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let state: String = row.try_get_by_index(0)?;
        let state = JobState::from_code(&state)
            .ok_or_else(|| DbErr::Custom(format!("unknown post-upload job state {state}")))?;
        Ok(Some((state, row.try_get_by_index(1)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff_ms(1), 5_000);
        assert_eq!(backoff_ms(2), 10_000);
        assert_eq!(backoff_ms(4), 40_000);
        assert_eq!(backoff_ms(30), MAX_BACKOFF_MS);
    }
}
