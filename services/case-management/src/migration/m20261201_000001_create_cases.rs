//! Cases, the allegations they hold, their casualty figures, their lifecycle history, and the
//! per-year counters behind their references.

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
                    .table(CaseReferenceCounters::Table)
                    .col(integer(CaseReferenceCounters::Year).primary_key())
                    .col(big_integer(CaseReferenceCounters::LastNumber))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Cases::Table)
                    .col(pk_uuid(Cases::Id))
                    .col(string_uniq(Cases::Reference))
                    .col(text(Cases::Title))
                    .col(text_null(Cases::Summary))
                    .col(string(Cases::Status))
                    .col(big_integer(Cases::Version))
                    .col(text(Cases::PartyCodes))
                    .col(text(Cases::ViolationTypes))
                    .col(text(Cases::CrimeTypeCodes))
                    .col(timestamp_with_time_zone_null(Cases::PeriodStart))
                    .col(timestamp_with_time_zone_null(Cases::PeriodEnd))
                    .col(string_null(Cases::PeriodPrecision))
                    .col(text_null(Cases::PlaceName))
                    .col(text_null(Cases::AdminArea))
                    .col(string_null(Cases::CountryCode))
                    .col(double_null(Cases::Latitude))
                    .col(double_null(Cases::Longitude))
                    .col(string_null(Cases::LocationPrecision))
                    .col(text_null(Cases::AssignedInvestigator))
                    .col(text_null(Cases::AssignedProsecutor))
                    .col(timestamp_with_time_zone(Cases::OpenedAt))
                    .col(timestamp_with_time_zone(Cases::UpdatedAt))
                    .col(string_null(Cases::CloseReason))
                    .col(uuid_null(Cases::MergedIntoCaseId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_cases_merged_into")
                            .from(Cases::Table, Cases::MergedIntoCaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_cases_status", Cases::Status),
            ("ix_cases_opened_at", Cases::OpenedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Cases::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CaseAllegations::Table)
                    .col(pk_uuid(CaseAllegations::AllegationId))
                    .col(uuid(CaseAllegations::CaseId))
                    .col(string(CaseAllegations::Reference))
                    .col(uuid_null(CaseAllegations::DuplicateOfId))
                    .col(timestamp_with_time_zone(CaseAllegations::LinkedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseAllegations::Table, CaseAllegations::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_case_allegations_case")
                    .table(CaseAllegations::Table)
                    .col(CaseAllegations::CaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseVictimGroups::Table)
                    .col(uuid(CaseVictimGroups::CaseId))
                    .col(integer(CaseVictimGroups::Position))
                    .col(integer(CaseVictimGroups::Count))
                    .col(string(CaseVictimGroups::Status))
                    .col(string(CaseVictimGroups::Harm))
                    .col(string(CaseVictimGroups::AgeGroup))
                    .col(string(CaseVictimGroups::Sex))
                    .primary_key(
                        Index::create()
                            .col(CaseVictimGroups::CaseId)
                            .col(CaseVictimGroups::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseVictimGroups::Table, CaseVictimGroups::CaseId)
                            .to(Cases::Table, Cases::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseStatusChanges::Table)
                    .col(uuid(CaseStatusChanges::CaseId))
                    .col(integer(CaseStatusChanges::Sequence))
                    .col(string_null(CaseStatusChanges::FromStatus))
                    .col(string(CaseStatusChanges::ToStatus))
                    .col(string_null(CaseStatusChanges::CloseReason))
                    .col(text_null(CaseStatusChanges::Note))
                    .col(uuid_null(CaseStatusChanges::MergedIntoCaseId))
                    .col(text(CaseStatusChanges::ChangedBy))
                    .col(timestamp_with_time_zone(CaseStatusChanges::ChangedAt))
                    .primary_key(
                        Index::create()
                            .col(CaseStatusChanges::CaseId)
                            .col(CaseStatusChanges::Sequence),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseStatusChanges::Table, CaseStatusChanges::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CaseStatusChanges::Table.into_iden(),
            CaseVictimGroups::Table.into_iden(),
            CaseAllegations::Table.into_iden(),
            Cases::Table.into_iden(),
            CaseReferenceCounters::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CaseReferenceCounters {
    Table,
    Year,
    LastNumber,
}

#[derive(DeriveIden)]
pub(super) enum Cases {
    Table,
    Id,
    Reference,
    Title,
    Summary,
    Status,
    Version,
    PartyCodes,
    ViolationTypes,
    CrimeTypeCodes,
    PeriodStart,
    PeriodEnd,
    PeriodPrecision,
    PlaceName,
    AdminArea,
    CountryCode,
    Latitude,
    Longitude,
    LocationPrecision,
    AssignedInvestigator,
    AssignedProsecutor,
    OpenedAt,
    UpdatedAt,
    CloseReason,
    MergedIntoCaseId,
}

#[derive(DeriveIden)]
enum CaseAllegations {
    Table,
    AllegationId,
    CaseId,
    Reference,
    DuplicateOfId,
    LinkedAt,
}

#[derive(DeriveIden)]
enum CaseVictimGroups {
    Table,
    CaseId,
    Position,
    Count,
    Status,
    Harm,
    AgeGroup,
    Sex,
}

#[derive(DeriveIden)]
enum CaseStatusChanges {
    Table,
    CaseId,
    Sequence,
    FromStatus,
    ToStatus,
    CloseReason,
    Note,
    MergedIntoCaseId,
    ChangedBy,
    ChangedAt,
}
