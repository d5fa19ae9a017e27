//! The case-management database. Every change runs in one write transaction that also appends
//! to the audit chain; changes to a case or its parts go through [`CaseStore::guard`], which
//! checks the caller's etag and bumps the case's version with a conditional update, so that of
//! two concurrent writers working from the same etag only one succeeds (also on PostgreSQL, where
//! the row read is not locked).

mod casualty;
mod change;
mod charge;
mod content;
mod detach;
mod evidence;
mod history;
mod journal;
mod open;
mod person;
mod query;
mod read;
mod reference;
mod registration;
mod republish;

use chrono::{DateTime, Datelike, SubsecRound, Utc};
use docket_domain::case::CaseReference;
use docket_platform::db::placeholder;
use docket_platform::events::EventLog;
use docket_platform::outbox::Dispatcher;
use docket_platform::sealing::Sealer;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{DatabaseConnection, DatabaseTransaction, QuerySelect, Statement};

pub use change::CaseChange;
pub use charge::NewCharge;
pub use evidence::{EvidenceLink, NewAssessment, with_content_verdicts};
pub use person::{Identity, NewPerson};
pub use query::CaseQuery;

use crate::entity::case;
use crate::error::CaseError;
use crate::register::Register;

/// Cases in the case-management database. Witness identities are sealed on the way in and
/// opened, or redacted, on the way out according to the caller's role.
#[derive(Debug, Clone)]
pub struct CaseStore {
    db: DatabaseConnection,
    sealer: Sealer,
    events: EventLog,
    /// The casualty register's index and decisions, in memory.
    register: Register,
    /// Sends the custody notices of links and unlinks to intake (see `crate::custody`).
    outbox: Dispatcher,
}

impl CaseStore {
    /// The store with its casualty register loaded (see [`CaseStore::load_register`]).
    pub async fn load(
        db: DatabaseConnection,
        sealer: Sealer,
        events: EventLog,
        outbox: Dispatcher,
    ) -> Result<Self, CaseError> {
        let store = Self {
            db,
            sealer,
            events,
            register: Register::default(),
            outbox,
        };
        store.load_register().await?;
        let republished = store.republish_marked().await?;
        if republished > 0 {
            tracing::info!(
                cases = republished,
                "published every case again for reporting"
            );
        }
        Ok(store)
    }

    /// Begins the transaction of a change of a case, under the register's
    /// [`Register::changing`] guard: keep the guard until after the commit, so that the change
    /// publishes the case's named victims in the register entries of every decision committed
    /// before it (see [`crate::register`]).
    async fn begin_change(
        &self,
    ) -> Result<(tokio::sync::RwLockReadGuard<'_, ()>, DatabaseTransaction), CaseError> {
        let changing = self.register.changing().await;
        let txn = docket_platform::db::begin_write(&self.db).await?;
        Ok((changing, txn))
    }

    /// Reads case `id` for a change in `txn`, checks `etag` when one is given, and bumps the
    /// version. Returns the row as it was before the change.
    async fn guard(
        &self,
        txn: &DatabaseTransaction,
        id: Uuid,
        etag: Option<&str>,
    ) -> Result<case::Model, CaseError> {
        // Locked until the transaction ends (PostgreSQL; SQLite's write transaction already
        // excludes other writers): a concurrent change waits and then reads this one's
        // outcome, so a call that sent no etag is never refused as a conflict — found by the
        // lifecycle property (tests/e2e/lifecycles.rs): a charge filed without an etag while
        // the case was qualified came back ABORTED.
        let row = case::Entity::find_by_id(id)
            .lock_exclusive()
            .one(txn)
            .await?
            .ok_or(CaseError::CaseNotFound(id))?;
        if etag.is_some_and(|etag| etag != etag_of(id, row.version)) {
            return Err(CaseError::StaleEtag(id));
        }
        let bumped = case::Entity::update_many()
            .col_expr(case::Column::Version, Expr::value(row.version + 1))
            .col_expr(case::Column::UpdatedAt, Expr::value(now()))
            .filter(case::Column::Id.eq(id))
            .filter(case::Column::Version.eq(row.version))
            .exec(txn)
            .await?;
        if bumped.rows_affected == 0 {
            // Another writer bumped it after our read: whatever etag we had is stale now.
            return Err(CaseError::StaleEtag(id));
        }
        history::ensure_begun(txn, &row).await?;
        Ok(row)
    }
}

/// The etag of version `version` of case `id` (see `docket_platform::etag`).
pub fn etag_of(id: Uuid, version: i64) -> String {
    docket_platform::etag::of(id, version)
}

/// Now, to the microsecond that PostgreSQL keeps, so that what is read back equals what was
/// written on either database.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The next reference of `opened_at`'s year. As in intake, the counter row stays locked until
/// the transaction ends: references are given in commit order without gaps, and a case that is
/// rolled back gives its number back.
async fn next_reference(
    txn: &DatabaseTransaction,
    opened_at: DateTime<Utc>,
) -> Result<CaseReference, DbErr> {
    let year = opened_at.year();
    let backend = txn.get_database_backend();
    let sql = format!(
        "INSERT INTO case_reference_counters (year, last_number) VALUES ({}, 1) \
         ON CONFLICT (year) DO UPDATE SET last_number = case_reference_counters.last_number + 1 \
         RETURNING last_number",
        placeholder(backend, 1)
    );
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [year.into()]))
        .await?
        .ok_or_else(|| DbErr::Custom("the case reference counter returned no row".to_owned()))?;
    let number: i64 = row.try_get_by_index(0)?;
    u32::try_from(number)
        .ok()
        .and_then(|number| CaseReference::new(year, number))
        .ok_or_else(|| DbErr::Custom(format!("case number {number} of {year} is out of range")))
}
