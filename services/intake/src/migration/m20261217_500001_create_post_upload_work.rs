//! Work done on the bytes after an upload commits: the durable queue of post-upload jobs, and
//! the perceptual hashes the first kind of job computes.
//!
//! Times are milliseconds since the Unix epoch in plain integers, so that the queue's claims
//! compare them the same way on SQLite and PostgreSQL. Perceptual hashes are computed from the
//! evidence bytes, never from a sealed value, so they may be stored (see DESIGN.md, "Trust").

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PostUploadJobs {
    Table,
    Id,
    Kind,
    Subject,
    State,
    Attempts,
    NextAttemptMs,
    LeaseUntilMs,
    LeasedBy,
    Outcome,
    CreatedMs,
    FinishedMs,
}

#[derive(DeriveIden)]
enum PerceptualHashes {
    Table,
    Sha256,
    Position,
    Media,
    Hash,
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
                    .table(PostUploadJobs::Table)
                    .col(pk_uuid(PostUploadJobs::Id))
                    .col(string(PostUploadJobs::Kind))
                    .col(string(PostUploadJobs::Subject))
                    .col(string(PostUploadJobs::State))
                    .col(integer(PostUploadJobs::Attempts))
                    .col(big_integer(PostUploadJobs::NextAttemptMs))
                    .col(big_integer_null(PostUploadJobs::LeaseUntilMs))
                    .col(string_null(PostUploadJobs::LeasedBy))
                    .col(text_null(PostUploadJobs::Outcome))
                    .col(big_integer(PostUploadJobs::CreatedMs))
                    .col(big_integer_null(PostUploadJobs::FinishedMs))
                    .to_owned(),
            )
            .await?;
        // One job of a kind per content: the same bytes uploaded again are not worked on twice.
        manager
            .create_index(
                Index::create()
                    .name("ux_post_upload_jobs_kind_subject")
                    .table(PostUploadJobs::Table)
                    .col(PostUploadJobs::Kind)
                    .col(PostUploadJobs::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_post_upload_jobs_due")
                    .table(PostUploadJobs::Table)
                    .col(PostUploadJobs::State)
                    .col(PostUploadJobs::NextAttemptMs)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PerceptualHashes::Table)
                    .col(string(PerceptualHashes::Sha256))
                    .col(integer(PerceptualHashes::Position))
                    .col(string(PerceptualHashes::Media))
                    .col(big_integer(PerceptualHashes::Hash))
                    .primary_key(
                        Index::create()
                            .col(PerceptualHashes::Sha256)
                            .col(PerceptualHashes::Position),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PerceptualHashes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PostUploadJobs::Table).to_owned())
            .await
    }
}
