//! The case-management database schema, one migration per file, applied at start-up.

use sea_orm_migration::prelude::*;

mod m20261201_000001_create_cases;
mod m20261201_000002_create_persons_charges_evidence;
mod m20261215_060002_add_case_changes;
mod m20261216_050001_add_victim_sides;
mod m20261217_100001_add_casualty_register;
mod m20261217_100002_republish_cases;
mod m20261219_400001_index_case_filters;
mod m20261220_100001_case_codes;

pub(crate) use m20261215_060002_add_case_changes::HISTORY;

/// Every case-management migration, oldest first. The audit log came first, while the service
/// had nothing else to keep.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(docket_platform::audit::CreateAuditLog),
            Box::new(docket_platform::events::CreateEventLog),
            Box::new(m20261201_000001_create_cases::Migration),
            Box::new(m20261201_000002_create_persons_charges_evidence::Migration),
            Box::new(m20261215_060002_add_case_changes::Migration),
            Box::new(docket_platform::audit::AddAuditEntryCount),
            Box::new(m20261216_050001_add_victim_sides::Migration),
            Box::new(m20261217_100001_add_casualty_register::Migration),
            Box::new(m20261217_100002_republish_cases::Migration),
            Box::new(m20261219_400001_index_case_filters::Migration),
            // Custody notices of links and unlinks, for intake (see `crate::custody`).
            Box::new(docket_platform::outbox::CreateOutbox),
            Box::new(docket_platform::outbox::AddOutboxTraceParent),
            Box::new(docket_platform::outbox::AddOutboxDeadLetters),
            Box::new(docket_platform::lease::CreateLeases),
            Box::new(docket_platform::lease::AddLeaseIncarnation),
            // The audit head's RFC 3161 timestamps (see `docket_platform::timestamp`).
            Box::new(docket_platform::timestamp::CreateTrustedTimestamps),
            Box::new(m20261220_100001_case_codes::Migration),
        ]
    }
}
