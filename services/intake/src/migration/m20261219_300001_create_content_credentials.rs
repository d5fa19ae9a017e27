//! Content Credentials: what the C2PA manifest embedded in each evidence file says (signer,
//! claim generator, actions) and how it validated when intake read it, one row per content
//! (SHA-256). A content without a manifest gets a row too (`no_manifest`), so that "read, and
//! nothing there" is told from "not read yet".
//!
//! Evidence stored before this migration is read at the next start: intake enqueues a job for
//! every content that has none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContentCredentials {
    Table,
    Id,
    /// The content read, SHA-256 in hex; unique.
    Sha256,
    /// `no_manifest`, `valid`, `trusted` or `invalid`.
    State,
    /// Why there is no manifest, or the reader's error, in words.
    Detail,
    /// The active manifest's label (a URN).
    ManifestLabel,
    /// The signing certificate's subject and issuer, as RFC 4514 names.
    SignerSubject,
    SignerIssuer,
    /// The signing time the manifest claims, RFC 3339, as written.
    SignedTime,
    ClaimGenerator,
    /// The actions assertions' entries, a JSON array of {action, software_agent, when}.
    Actions,
    /// The failing validation codes, a JSON array of {code, explanation}.
    Failures,
    ReadMs,
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
                    .table(ContentCredentials::Table)
                    .col(pk_uuid(ContentCredentials::Id))
                    .col(string(ContentCredentials::Sha256))
                    .col(string(ContentCredentials::State))
                    .col(text(ContentCredentials::Detail))
                    .col(string(ContentCredentials::ManifestLabel))
                    .col(text(ContentCredentials::SignerSubject))
                    .col(text(ContentCredentials::SignerIssuer))
                    .col(string(ContentCredentials::SignedTime))
                    .col(text(ContentCredentials::ClaimGenerator))
                    .col(text(ContentCredentials::Actions))
                    .col(text(ContentCredentials::Failures))
                    .col(big_integer(ContentCredentials::ReadMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_content_credentials_sha256")
                    .table(ContentCredentials::Table)
                    .col(ContentCredentials::Sha256)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ContentCredentials::Table).to_owned())
            .await
    }
}
