//! Review flags: a verdict of fabricated on some bytes marks their near-duplicates (other bytes,
//! perceptually the same picture or video) for a person to examine. A flag is raised by the
//! verdict or by the hashing of a later copy, and cleared when the flagged content gets its own
//! verdict or the verdict that raised it is revised. Nothing existed before: no data to move.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContentReviewFlags {
    Table,
    Id,
    Sha256,
    BecauseSha256,
    BecauseAssessmentId,
    DistanceBits,
    MatchedFraction,
    RaisedAt,
    ClearedAt,
    ClearedBy,
    ClearedReason,
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
                    .table(ContentReviewFlags::Table)
                    .col(pk_uuid(ContentReviewFlags::Id))
                    .col(string(ContentReviewFlags::Sha256))
                    .col(string(ContentReviewFlags::BecauseSha256))
                    .col(uuid(ContentReviewFlags::BecauseAssessmentId))
                    .col(double(ContentReviewFlags::DistanceBits))
                    .col(double(ContentReviewFlags::MatchedFraction))
                    .col(timestamp_with_time_zone(ContentReviewFlags::RaisedAt))
                    .col(timestamp_with_time_zone_null(ContentReviewFlags::ClearedAt))
                    .col(uuid_null(ContentReviewFlags::ClearedBy))
                    .col(string_null(ContentReviewFlags::ClearedReason))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_content_review_flags_sha256", ContentReviewFlags::Sha256),
            (
                "ix_content_review_flags_because",
                ContentReviewFlags::BecauseSha256,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ContentReviewFlags::Table)
                        .col(column)
                        .col(ContentReviewFlags::ClearedAt)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ContentReviewFlags::Table).to_owned())
            .await
    }
}
