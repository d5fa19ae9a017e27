//! The reporting schema: projections of the other services' events and the cursors of the
//! streams they come from.

use sea_orm_migration::prelude::*;

mod m20261128_000001_create_projections;
mod m20261128_000003_create_rollups;
mod m20261128_000010_add_case_references;
mod m20261216_050001_add_victim_sides_and_counting;
mod m20261216_070001_create_releases;
mod m20261217_100001_add_named_victims;
mod m20261217_400001_create_content_verdicts;
mod m20261218_300002_add_evidence_allegations;
mod m20261219_100001_add_case_coordinates;

/// Every reporting migration, oldest first.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(docket_platform::audit::CreateAuditLog),
            Box::new(m20261128_000001_create_projections::Migration),
            Box::new(m20261128_000003_create_rollups::Migration),
            Box::new(docket_platform::lease::CreateLeases),
            Box::new(m20261128_000010_add_case_references::Migration),
            Box::new(docket_platform::lease::AddLeaseIncarnation),
            Box::new(docket_platform::audit::AddAuditEntryCount),
            Box::new(m20261216_050001_add_victim_sides_and_counting::Migration),
            Box::new(m20261216_070001_create_releases::Migration),
            Box::new(m20261217_100001_add_named_victims::Migration),
            Box::new(m20261217_400001_create_content_verdicts::Migration),
            Box::new(m20261218_300002_add_evidence_allegations::Migration),
            Box::new(m20261219_100001_add_case_coordinates::Migration),
            // The audit head's RFC 3161 timestamps (see `docket_platform::timestamp`).
            Box::new(docket_platform::timestamp::CreateTrustedTimestamps),
        ]
    }
}
