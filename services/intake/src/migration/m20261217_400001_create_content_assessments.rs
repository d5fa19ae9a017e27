//! Verdicts on content: assessments of a file's authenticity keyed by its SHA-256, so that every
//! record of the same bytes shows them. Nothing existed here before; case management keeps the
//! case-level assessments it recorded earlier, readable there and standing where the content has
//! no verdict (each service owns its database: no migration moves rows between them).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContentAssessments {
    Table,
    Id,
    Sha256,
    EvidenceId,
    Verdict,
    Method,
    Confidence,
    Examiner,
    Notes,
    RecordedBy,
    RecordedAt,
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
                    .table(ContentAssessments::Table)
                    .col(pk_uuid(ContentAssessments::Id))
                    .col(string(ContentAssessments::Sha256))
                    .col(uuid_null(ContentAssessments::EvidenceId))
                    .col(string(ContentAssessments::Verdict))
                    .col(string(ContentAssessments::Method))
                    .col(string(ContentAssessments::Confidence))
                    .col(text(ContentAssessments::Examiner))
                    .col(text(ContentAssessments::Notes))
                    .col(string(ContentAssessments::RecordedBy))
                    .col(timestamp_with_time_zone(ContentAssessments::RecordedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_content_assessments_sha256")
                    .table(ContentAssessments::Table)
                    .col(ContentAssessments::Sha256)
                    .col(ContentAssessments::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ContentAssessments::Table).to_owned())
            .await
    }
}
