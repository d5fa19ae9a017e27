//! `trusted_timestamps`: case management and reporting keep their audit heads' tokens there,
//! intake its evidence's and its audit head's. Intake applies this definition under its own,
//! earlier migration name (`m20261218_400001_create_trusted_timestamps`).

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `trusted_timestamps`: RFC 3161 tokens kept as they came (DER) with the nonce they
/// answer, so that they can be verified again at any time, offline.
#[derive(Debug)]
pub struct CreateTrustedTimestamps;

impl MigrationName for CreateTrustedTimestamps {
    fn name(&self) -> &str {
        "m20261220_200001_create_trusted_timestamps"
    }
}

#[derive(DeriveIden)]
enum TrustedTimestamps {
    Table,
    Id,
    /// What was stamped: `evidence` (a SHA-256 of evidence bytes) or `audit_head` (the
    /// `entry_hash` of the chain's head).
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
impl MigrationTrait for CreateTrustedTimestamps {
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
