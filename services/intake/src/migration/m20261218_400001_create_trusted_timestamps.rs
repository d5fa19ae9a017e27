//! RFC 3161 timestamps: the tokens a time-stamping authority signed over the SHA-256 of each
//! evidence file, kept as they came (DER) with the nonce they answer, so that they can be
//! verified again at any time, offline.
//!
//! Evidence stored before this migration gets its timestamp at the first start with an
//! authority configured: intake enqueues a job for every content that has none.

use docket_platform::timestamp::CreateTrustedTimestamps;
use sea_orm_migration::prelude::*;

/// The same table case management and reporting create later under their own migration name
/// (the platform's [`CreateTrustedTimestamps`]): one definition, applied here under this
/// migration's name, which intake's databases already record.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        CreateTrustedTimestamps.up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        CreateTrustedTimestamps.down(manager).await
    }
}
