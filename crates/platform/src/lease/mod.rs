//! Leases in the service's own database, so that work which must not run twice (the outbox
//! dispatcher, each reporting projector) runs in exactly one replica at a time.
//!
//! A lease is a row `(name, holder, expires_at_ms)`. Taking and renewing it is one conditional
//! upsert (compare-and-set): it succeeds when the row is missing, already ours, or expired. Every
//! expiry is computed and compared by the **database's** clock, so the replicas' clocks never
//! meet and their skew does not matter. The holder's only local reasoning uses its monotonic
//! clock: a renewal sent at instant `t` and acknowledged makes the lease ours until at least
//! `t + ttl` (the database read its clock after `t`). The holder renews every `ttl / 3`, gives a
//! renewal at most `ttl / 3` to answer, and stops its work the moment a renewal fails, times out
//! or finds the lease taken: at the latest `2/3 ttl` after its last good renewal was sent, a
//! third of the TTL before another replica can take over. What remains assumed is that the
//! holder's clock does not run more than a third slower than the database's, and that a write
//! sent before that point reaches the database within the remaining third.
//!
//! A holder is an identity (see [`HolderIdentity`]) and an incarnation, fresh for every
//! [`Lease`] value. A replica restarted after a crash comes back with the same identity and a
//! new incarnation; when its identity is exclusive (no other live process can have it), a row
//! with that identity and another incarnation was left by its dead predecessor, and it takes the
//! lease back at once instead of waiting out the TTL. Renewals, fences and releases match the
//! incarnation too, so the dead incarnation's row is never mistaken for a live one's.
//!
//! Work is stopped by dropping it, which rolls back an open transaction. A message delivered
//! but not yet recorded is delivered again by the next holder; receivers are idempotent.
//!
//! Work that writes its results to the same database renews the lease inside its own
//! transactions instead, through the [`Fence`] it is given: the renewal is an update of the
//! lease row conditional on this holder, so the transaction's writes commit only while the
//! lease is still ours (a stale holder's transaction finds the row changed and rolls back),
//! and a committed renewal counts as one for the rule above. A writer that keeps the database
//! busy thus never starves its own renewal: on SQLite, where writers wait for the lock by
//! polling, a separate renewal could wait behind back-to-back transactions past its deadline.

mod identity;
mod migration;

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement, Value};
use tokio::time::Instant;
use uuid::Uuid;

use crate::db::placeholder;
use crate::shutdown::{Shutdown, ShutdownSignal};

pub use identity::HolderIdentity;
pub use migration::{AddLeaseIncarnation, CreateLeases};

/// One named lease, as seen by one holder.
#[derive(Debug, Clone)]
pub struct Lease {
    db: DatabaseConnection,
    name: String,
    identity: HolderIdentity,
    /// Distinguishes this holder from earlier ones of the same identity.
    incarnation: String,
    ttl: Duration,
}

impl Lease {
    /// The lease `name` in `db`, held (when it is) by a new random holder id for `ttl` at a
    /// time. Each call makes a distinct holder, so two services in one process compete too.
    pub fn new(db: DatabaseConnection, name: &str, ttl: Duration) -> Self {
        Self::held_as(db, name, ttl, HolderIdentity::random())
    }

    /// The lease `name` in `db`, held as `identity` with a fresh incarnation: when the identity
    /// is exclusive, a lease its dead predecessor left is taken back at once.
    pub fn held_as(
        db: DatabaseConnection,
        name: &str,
        ttl: Duration,
        identity: HolderIdentity,
    ) -> Self {
        Self {
            db,
            name: name.to_owned(),
            identity,
            incarnation: Uuid::now_v7().simple().to_string(),
            ttl: ttl.max(Duration::from_millis(300)),
        }
    }

    /// This holder's id, as stored in the lease row while it holds the lease.
    pub fn holder(&self) -> &str {
        self.identity.id()
    }

    /// Takes or renews the lease for another TTL; `false` when another holder has it.
    pub async fn try_acquire(&self) -> Result<bool, DbErr> {
        let backend = self.db.get_database_backend();
        let now = now_ms(backend);
        let ttl_ms = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        // Ours (this incarnation), expired, or left by a dead incarnation of an exclusive
        // identity: only then does the update happen.
        let sql = format!(
            "INSERT INTO leases (name, holder, incarnation, expires_at_ms) \
             VALUES ({p1}, {p2}, {p3}, {now} + {p4}) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             incarnation = excluded.incarnation, expires_at_ms = excluded.expires_at_ms \
             WHERE (leases.holder = excluded.holder \
             AND (leases.incarnation = excluded.incarnation OR {p5})) \
             OR leases.expires_at_ms <= {now}",
            p1 = placeholder(backend, 1),
            p2 = placeholder(backend, 2),
            p3 = placeholder(backend, 3),
            p4 = placeholder(backend, 4),
            p5 = placeholder(backend, 5),
        );
        // In the order they appear: SQLite's placeholders are positional.
        let values: Vec<Value> = vec![
            self.name.clone().into(),
            self.identity.id().into(),
            self.incarnation.clone().into(),
            ttl_ms.into(),
            self.identity.is_exclusive().into(),
        ];
        let result = self
            .db
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Gives the lease up at once, if this holder has it, so another replica need not wait for
    /// it to expire.
    pub async fn release(&self) -> Result<(), DbErr> {
        let backend = self.db.get_database_backend();
        let sql = format!(
            "UPDATE leases SET expires_at_ms = 0 WHERE name = {} AND holder = {} \
             AND incarnation = {}",
            placeholder(backend, 1),
            placeholder(backend, 2),
            placeholder(backend, 3),
        );
        self.db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [
                    self.name.clone().into(),
                    self.identity.id().into(),
                    self.incarnation.clone().into(),
                ],
            ))
            .await?;
        Ok(())
    }

    /// A fence for one spell of holding the lease, with no renewal of its own yet.
    fn fence(&self) -> Fence {
        Fence {
            name: self.name.clone(),
            holder: self.identity.id().to_owned(),
            incarnation: self.incarnation.clone(),
            ttl: self.ttl,
            renewed: Arc::default(),
        }
    }

    /// Runs `work` only while this holder has the lease, until `shutdown`.
    ///
    /// Until the lease is free it tries again every third of the TTL. Once it has it, it starts
    /// `work` with a signal of its own and a [`Fence`], and renews every third of the TTL unless
    /// the work's own transactions renewed it meanwhile; when a renewal fails, or finds the
    /// lease taken, `work` is dropped at once and the wait starts over. On `shutdown`, `work`
    /// sees its signal and ends by itself, the lease is kept renewed meanwhile and released
    /// afterwards.
    pub async fn hold<W, F>(self, shutdown: ShutdownSignal, mut work: W)
    where
        W: FnMut(ShutdownSignal, Fence) -> F,
        F: Future<Output = ()>,
    {
        // Standbys export 0, so that "no replica holds it" shows as a sum of 0, not as nothing.
        metrics::gauge!("docket_lease_held", "lease" => self.name.clone()).set(0.0);
        let period = self.ttl / 3;
        let stop = shutdown.clone().wait();
        tokio::pin!(stop);
        loop {
            let sent = Instant::now();
            match tokio::time::timeout(period, self.try_acquire()).await {
                Ok(Ok(true)) => {
                    tracing::info!(lease = %self.name, holder = %self.identity.id(), incarnation = %self.incarnation, "lease taken");
                    metrics::gauge!("docket_lease_held", "lease" => self.name.clone()).set(1.0);
                    let finished = self.while_held(sent, &shutdown, &mut work).await;
                    metrics::gauge!("docket_lease_held", "lease" => self.name.clone()).set(0.0);
                    if finished {
                        if let Err(error) = self.release().await {
                            tracing::warn!(lease = %self.name, %error, "cannot release the lease; it will expire");
                        }
                        return;
                    }
                }
                Ok(Ok(false)) => {}
                Ok(Err(error)) => {
                    tracing::warn!(lease = %self.name, %error, "cannot reach the lease; trying again");
                }
                Err(_) => {
                    tracing::warn!(lease = %self.name, "taking the lease timed out; trying again");
                }
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep_until(sent + period) => {}
            }
        }
    }

    /// Runs one spell of `work` while renewing; `true` when it ended because of shutdown,
    /// `false` when the lease was lost.
    async fn while_held<W, F>(
        &self,
        mut renewed: Instant,
        shutdown: &ShutdownSignal,
        work: &mut W,
    ) -> bool
    where
        W: FnMut(ShutdownSignal, Fence) -> F,
        F: Future<Output = ()>,
    {
        let period = self.ttl / 3;
        let (stop_work, work_signal) = Shutdown::new();
        let fence = self.fence();
        let running = work(work_signal, fence.clone());
        tokio::pin!(running);
        let stop = shutdown.clone().wait();
        tokio::pin!(stop);
        let mut stopping = false;
        loop {
            tokio::select! {
                () = &mut running => return true,
                () = &mut stop, if !stopping => {
                    stopping = true;
                    stop_work.trigger();
                }
                () = tokio::time::sleep_until(renewed + period) => {
                    if let Some(by_work) = fence.last_renewed()
                        && by_work > renewed
                    {
                        renewed = by_work;
                        continue;
                    }
                    let sent = Instant::now();
                    match tokio::time::timeout(period, self.try_acquire()).await {
                        Ok(Ok(true)) => renewed = sent,
                        Ok(Ok(false)) => {
                            tracing::warn!(lease = %self.name, "the lease was taken by another holder; stopping");
                            return false;
                        }
                        Ok(Err(error)) => {
                            tracing::warn!(lease = %self.name, %error, "renewing the lease failed; stopping");
                            return false;
                        }
                        Err(_) => {
                            tracing::warn!(lease = %self.name, "renewing the lease timed out; stopping");
                            return false;
                        }
                    }
                }
            }
        }
    }
}

/// The lease as its holder's work sees it while it runs: renewals inside the work's own
/// transactions, which fence their writes (see the module's documentation).
#[derive(Debug, Clone)]
pub struct Fence {
    name: String,
    holder: String,
    incarnation: String,
    ttl: Duration,
    /// When the last renewal that committed was sent.
    renewed: Arc<Mutex<Option<Instant>>>,
}

/// A renewal written in a transaction that has not committed yet; hand it to
/// [`Fence::committed`] once it has.
#[derive(Debug)]
#[must_use = "a renewal counts only once its transaction committed: pass it to Fence::committed"]
pub struct Renewal {
    sent: Instant,
}

impl Fence {
    /// Renews the lease inside `txn`, which should be a write transaction, before its other
    /// writes. `None` when the lease is no longer this holder's: roll back, write nothing.
    pub async fn renew<C: ConnectionTrait>(&self, txn: &C) -> Result<Option<Renewal>, DbErr> {
        let backend = txn.get_database_backend();
        let sent = Instant::now();
        let ttl_ms = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        let sql = format!(
            "UPDATE leases SET expires_at_ms = {now} + {p1} WHERE name = {p2} AND holder = {p3} \
             AND incarnation = {p4}",
            now = now_ms(backend),
            p1 = placeholder(backend, 1),
            p2 = placeholder(backend, 2),
            p3 = placeholder(backend, 3),
            p4 = placeholder(backend, 4),
        );
        let values: Vec<Value> = vec![
            ttl_ms.into(),
            self.name.clone().into(),
            self.holder.clone().into(),
            self.incarnation.clone().into(),
        ];
        let result = txn
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        Ok((result.rows_affected() == 1).then_some(Renewal { sent }))
    }

    /// Records that the transaction that wrote `renewal` committed.
    pub fn committed(&self, renewal: Renewal) {
        let mut renewed = self.renewed.lock().unwrap_or_else(PoisonError::into_inner);
        *renewed = Some(renewed.map_or(renewal.sent, |at| at.max(renewal.sent)));
    }

    fn last_renewed(&self) -> Option<Instant> {
        *self.renewed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Who holds the lease `name` now, by the database's clock (`None`: nobody).
pub async fn current_holder(db: &DatabaseConnection, name: &str) -> Result<Option<String>, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT holder FROM leases WHERE name = {} AND expires_at_ms > {}",
        placeholder(backend, 1),
        now_ms(backend)
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [name.into()]))
        .await?;
    row.map(|row| row.try_get_by_index(0)).transpose()
}

/// The database's clock in milliseconds since the Unix epoch, as SQL. Services run on
/// PostgreSQL or SQLite only.
fn now_ms(backend: DatabaseBackend) -> &'static str {
    if backend == DatabaseBackend::Postgres {
        "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
    } else {
        "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sea_orm_migration::{MigrationTrait, SchemaManager};

    async fn database(dir: &tempfile::TempDir) -> DatabaseConnection {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("l.db").display());
        let settings = crate::Settings::defaults().unwrap();
        let db = crate::db::connect(&url, &settings.database).await.unwrap();
        CreateLeases.up(&SchemaManager::new(&db)).await.unwrap();
        AddLeaseIncarnation
            .up(&SchemaManager::new(&db))
            .await
            .unwrap();
        db
    }

    #[tokio::test]
    async fn one_holder_at_a_time_until_it_releases_or_expires() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(&dir).await;
        let a = Lease::new(db.clone(), "work", Duration::from_millis(400));
        let b = Lease::new(db.clone(), "work", Duration::from_millis(400));
        assert!(a.try_acquire().await.unwrap());
        assert!(!b.try_acquire().await.unwrap(), "taken");
        assert!(a.try_acquire().await.unwrap(), "renewed by its holder");
        a.release().await.unwrap();
        assert!(b.try_acquire().await.unwrap(), "free once released");
        assert!(!a.try_acquire().await.unwrap());
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(current_holder(&db, "work").await.unwrap(), None, "expired");
        assert!(a.try_acquire().await.unwrap(), "free once expired");
        assert_eq!(
            current_holder(&db, "work").await.unwrap().as_deref(),
            Some(a.holder())
        );
    }

    #[tokio::test]
    async fn a_restarted_holder_takes_its_own_lease_back_at_once_and_others_still_wait() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(&dir).await;
        let ttl = Duration::from_secs(30);
        let identity = HolderIdentity::claim(dir.path(), "work").await;
        let dead = Lease::held_as(db.clone(), "work", ttl, identity);
        assert!(dead.try_acquire().await.unwrap());
        let stale_fence = dead.fence();
        // A crash: the lease is never released and its identity's lock goes with the process.
        drop(dead);

        let stranger = Lease::new(db.clone(), "work", ttl);
        assert!(
            !stranger.try_acquire().await.unwrap(),
            "another identity waits"
        );
        let identity = HolderIdentity::claim(dir.path(), "work").await;
        let restarted = Lease::held_as(db.clone(), "work", ttl, identity);
        assert!(restarted.try_acquire().await.unwrap(), "taken back at once");
        assert!(
            !stranger.try_acquire().await.unwrap(),
            "another identity still waits"
        );

        // The dead incarnation is fenced off although its identity lives again.
        let txn = crate::db::begin_write(&db).await.unwrap();
        assert!(stale_fence.renew(&txn).await.unwrap().is_none());
        txn.rollback().await.unwrap();

        // A second live process can claim no identity in use, so it cannot take it either.
        let twin = Lease::held_as(
            db.clone(),
            "work",
            ttl,
            HolderIdentity::claim(dir.path(), "work").await,
        );
        assert!(
            !twin.try_acquire().await.unwrap(),
            "a live holder keeps its lease"
        );
    }

    #[tokio::test]
    async fn a_fence_renews_with_its_transaction_and_refuses_once_the_lease_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(&dir).await;
        let a = Lease::new(db.clone(), "work", Duration::from_millis(400));
        let b = Lease::new(db.clone(), "work", Duration::from_millis(400));
        assert!(a.try_acquire().await.unwrap());
        let fence = a.fence();

        let txn = crate::db::begin_write(&db).await.unwrap();
        let renewal = fence.renew(&txn).await.unwrap().expect("still a's");
        txn.commit().await.unwrap();
        fence.committed(renewal);
        assert!(fence.last_renewed().is_some());

        // A renewal whose transaction rolls back extends nothing.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let txn = crate::db::begin_write(&db).await.unwrap();
        let _renewal = fence.renew(&txn).await.unwrap().expect("still a's");
        txn.rollback().await.unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(b.try_acquire().await.unwrap(), "a's lease expired");

        // a's next transaction finds the lease taken: it must write nothing.
        let txn = crate::db::begin_write(&db).await.unwrap();
        assert!(fence.renew(&txn).await.unwrap().is_none(), "fenced off");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_that_keeps_the_database_busy_keeps_its_lease() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let db = database(&dir).await;
        // Renewals every 400 ms, each given 400 ms; the work holds SQLite's write lock almost
        // all the time, so a renewal of the lease's own would wait for it and time out.
        let lease = Lease::new(db.clone(), "busy", Duration::from_millis(1_200));
        let starts = Arc::new(AtomicUsize::new(0));
        let (shutdown, signal) = Shutdown::new();
        let holding = tokio::spawn(lease.hold(signal, {
            let (db, starts) = (db.clone(), Arc::clone(&starts));
            move |stop, fence| {
                starts.fetch_add(1, Ordering::SeqCst);
                let db = db.clone();
                async move {
                    let stopped = stop.wait();
                    tokio::pin!(stopped);
                    loop {
                        let round = async {
                            let txn = crate::db::begin_write(&db).await.unwrap();
                            let renewal = fence.renew(&txn).await.unwrap().expect("ours");
                            tokio::time::sleep(Duration::from_millis(60)).await;
                            txn.commit().await.unwrap();
                            fence.committed(renewal);
                        };
                        tokio::select! {
                            () = &mut stopped => return,
                            () = round => {}
                        }
                    }
                }
            }
        }));
        tokio::time::sleep(Duration::from_secs(3)).await;
        shutdown.trigger();
        holding.await.unwrap();
        assert_eq!(
            starts.load(Ordering::SeqCst),
            1,
            "the work was stopped for a lost lease and started again"
        );
    }
}
