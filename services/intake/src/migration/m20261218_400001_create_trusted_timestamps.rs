//! RFC 3161 timestamps: the tokens a time-stamping authority signed over the SHA-256 of each
//! evidence file, kept as they came (DER) with the nonce they answer, so that they can be
//! verified again at any time, offline.
//!
//! Evidence stored before this migration gets its timestamp at the first start with an
//! authority configured: intake enqueues a job for every content that has none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TrustedTimestamps {
    Table,
    Id,
    /// What was stamped: `evidence` (a SHA-256 of evidence bytes).
    SubjectKind,
    /// The SHA-256 stamped, in hex.
    Subject,
    /// The `TimeStampToken` (a CMS `ContentInfo`), DER.
    Token,
    /// The nonce the query carried, hex.
    Nonce,
    /// The policy asked for, if one was.
    RequestedPolicy,
    /// The authority's URL.
    AuthorityUrl,
    /// The signing certificate's subject.
    Authority,
    /// `genTime`, as written and in milliseconds.
    GenTime,
    GenTimeMs,
    Serial,
    Policy,
    CreatedMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TrustedTimestamps::Table)
                    .col(pk_uuid(TrustedTimestamps::Id))
                    .col(string(TrustedTimestamps::SubjectKind))
                    .col(string(TrustedTimestamps::Subject))
                    .col(blob(TrustedTimestamps::Token))
                    .col(string(TrustedTimestamps::Nonce))
                    .col(string_null(TrustedTimestamps::RequestedPolicy))
                    .col(string(TrustedTimestamps::AuthorityUrl))
                    .col(string(TrustedTimestamps::Authority))
                    .col(string(TrustedTimestamps::GenTime))
                    .col(big_integer(TrustedTimestamps::GenTimeMs))
                    .col(string(TrustedTimestamps::Serial))
                    .col(string(TrustedTimestamps::Policy))
                    .col(big_integer(TrustedTimestamps::CreatedMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_trusted_timestamps_subject")
                    .table(TrustedTimestamps::Table)
                    .col(TrustedTimestamps::SubjectKind)
                    .col(TrustedTimestamps::Subject)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TrustedTimestamps::Table).to_owned())
            .await
    }
}
