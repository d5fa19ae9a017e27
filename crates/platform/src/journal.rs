//! Recording a change: its audit entry and, when others need to know, its event, in the
//! transaction of the change itself.
//!
//! Both appends lock a head row until commit. Taking them in one fixed order (audit, then
//! events) everywhere is what keeps concurrent transactions from deadlocking on PostgreSQL, so
//! every change is recorded through [`record`], never by calling the two appends separately.

use docket_proto::docket::events::v1::EventPayload;
use sea_orm::{ConnectionTrait, DbErr};

use crate::audit::{self, AuditRecord};
use crate::events;

/// Appends `audit` and then, if given, `event`, inside the transaction `conn`.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    audit: &AuditRecord,
    event: Option<&EventPayload>,
) -> Result<(), DbErr> {
    audit::append(conn, audit).await?;
    if let Some(event) = event {
        events::append(conn, event).await?;
    }
    Ok(())
}

/// Appends every entry of `audits` and then every event of `events`, inside the transaction
/// `conn`, with one statement per table: what a batch of changes records.
pub async fn record_many<C: ConnectionTrait>(
    conn: &C,
    audits: &[AuditRecord],
    events: &[EventPayload],
) -> Result<(), DbErr> {
    audit::append_many(conn, audits).await?;
    events::append_many(conn, events).await?;
    Ok(())
}
