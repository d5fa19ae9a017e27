//! The intake database schema, one migration per file, applied at start-up.

use sea_orm_migration::prelude::*;

mod m20261128_000001_create_allegations;
mod m20261128_000002_create_evidence;
mod m20261215_060001_add_allegation_changes;
mod m20261216_050001_add_victim_sides;
mod m20261217_400001_create_content_assessments;
mod m20261217_500001_create_post_upload_work;
mod m20261218_300001_create_content_review_flags;
mod m20261218_400001_create_trusted_timestamps;
mod m20261219_200001_add_custody_case;
mod m20261219_200002_unique_open_review_flags;
mod m20261219_300001_create_content_credentials;
mod m20261220_100001_register_evidence_to_cases;

pub(crate) use m20261215_060001_add_allegation_changes::HISTORY;

/// Every intake migration, oldest first.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_allegations::Migration),
            Box::new(docket_platform::audit::CreateAuditLog),
            Box::new(m20261128_000002_create_evidence::Migration),
            Box::new(docket_platform::events::CreateEventLog),
            Box::new(docket_platform::outbox::CreateOutbox),
            Box::new(docket_platform::lease::CreateLeases),
            Box::new(docket_platform::outbox::AddOutboxTraceParent),
            Box::new(m20261215_060001_add_allegation_changes::Migration),
            Box::new(docket_platform::lease::AddLeaseIncarnation),
            Box::new(docket_platform::outbox::AddOutboxDeadLetters),
            Box::new(docket_platform::audit::AddAuditEntryCount),
            Box::new(m20261216_050001_add_victim_sides::Migration),
            Box::new(m20261217_400001_create_content_assessments::Migration),
            Box::new(m20261217_500001_create_post_upload_work::Migration),
            Box::new(m20261218_300001_create_content_review_flags::Migration),
            Box::new(m20261218_400001_create_trusted_timestamps::Migration),
            Box::new(m20261219_300001_create_content_credentials::Migration),
            Box::new(m20261219_200001_add_custody_case::Migration),
            Box::new(m20261219_200002_unique_open_review_flags::Migration),
            Box::new(m20261220_100001_register_evidence_to_cases::Migration),
        ]
    }
}
