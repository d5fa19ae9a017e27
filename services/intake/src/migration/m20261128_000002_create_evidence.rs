//! Evidence records and their chain of custody. The files themselves live in the blob store,
//! named by their SHA-256.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Evidence::Table)
                    .col(pk_uuid(Evidence::Id))
                    .col(uuid(Evidence::AllegationId))
                    .col(string(Evidence::Sha256))
                    .col(big_integer(Evidence::SizeBytes))
                    .col(text(Evidence::FileName))
                    .col(string_null(Evidence::DeclaredMediaType))
                    .col(string_null(Evidence::DetectedMediaType))
                    .col(text_null(Evidence::SourceUrl))
                    .col(timestamp_with_time_zone_null(Evidence::CapturedAt))
                    .col(timestamp_with_time_zone(Evidence::CollectedAt))
                    .col(string(Evidence::CollectedBy))
                    .col(string(Evidence::CollectionMethod))
                    .col(uuid_null(Evidence::DerivedFromId))
                    .col(string(Evidence::UploadedBy))
                    .col(timestamp_with_time_zone(Evidence::UploadedAt))
                    .col(string_null(Evidence::ExifCaptureTime))
                    .col(double_null(Evidence::ExifLatitude))
                    .col(double_null(Evidence::ExifLongitude))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_evidence_allegation")
                            .from(Evidence::Table, Evidence::AllegationId)
                            .to(Allegations::Table, Allegations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_evidence_derived_from")
                            .from(Evidence::Table, Evidence::DerivedFromId)
                            .to(Evidence::Table, Evidence::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_evidence_allegation", Evidence::AllegationId),
            ("ix_evidence_sha256", Evidence::Sha256),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Evidence::Table)
                        .col(column)
                        .col(Evidence::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CustodyEvents::Table)
                    .col(pk_uuid(CustodyEvents::Id))
                    .col(uuid(CustodyEvents::EvidenceId))
                    .col(string(CustodyEvents::Kind))
                    .col(string(CustodyEvents::Actor))
                    .col(timestamp_with_time_zone(CustodyEvents::OccurredAt))
                    .col(string(CustodyEvents::Sha256))
                    .col(text(CustodyEvents::Note))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_custody_events_evidence")
                            .from(CustodyEvents::Table, CustodyEvents::EvidenceId)
                            .to(Evidence::Table, Evidence::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_custody_events_evidence")
                    .table(CustodyEvents::Table)
                    .col(CustodyEvents::EvidenceId)
                    .col(CustodyEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CustodyEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Evidence::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Allegations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Evidence {
    Table,
    Id,
    AllegationId,
    Sha256,
    SizeBytes,
    FileName,
    DeclaredMediaType,
    DetectedMediaType,
    SourceUrl,
    CapturedAt,
    CollectedAt,
    CollectedBy,
    CollectionMethod,
    DerivedFromId,
    UploadedBy,
    UploadedAt,
    ExifCaptureTime,
    ExifLatitude,
    ExifLongitude,
}

#[derive(DeriveIden)]
enum CustodyEvents {
    Table,
    Id,
    EvidenceId,
    Kind,
    Actor,
    OccurredAt,
    Sha256,
    Note,
}
