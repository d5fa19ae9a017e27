//! Allegations, their repeated parts, and the per-year counters behind their references.

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
                    .table(ReferenceCounters::Table)
                    .col(integer(ReferenceCounters::Year).primary_key())
                    .col(big_integer(ReferenceCounters::LastNumber))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Allegations::Table)
                    .col(pk_uuid(Allegations::Id))
                    .col(string_uniq(Allegations::Reference))
                    .col(string_uniq(Allegations::RequestId))
                    .col(string(Allegations::RequestFingerprint))
                    .col(string(Allegations::Status))
                    .col(timestamp_with_time_zone(Allegations::ReceivedAt))
                    .col(timestamp_with_time_zone(Allegations::StatusChangedAt))
                    .col(string(Allegations::Channel))
                    .col(boolean(Allegations::SourceAnonymous))
                    // Sealed (AES-256-GCM) when present; never plaintext.
                    .col(text_null(Allegations::SourceName))
                    .col(text_null(Allegations::SourceContact))
                    .col(string_null(Allegations::ReceiptHash).unique_key())
                    .col(text(Allegations::Narrative))
                    .col(string(Allegations::Language))
                    .col(timestamp_with_time_zone_null(Allegations::PeriodStart))
                    .col(timestamp_with_time_zone_null(Allegations::PeriodEnd))
                    .col(string_null(Allegations::PeriodPrecision))
                    .col(text_null(Allegations::PlaceName))
                    .col(text_null(Allegations::AdminArea))
                    .col(string_null(Allegations::CountryCode))
                    .col(double_null(Allegations::Latitude))
                    .col(double_null(Allegations::Longitude))
                    .col(string_null(Allegations::LocationPrecision))
                    .col(text_null(Allegations::ReviewedBy))
                    .col(text_null(Allegations::RejectionReason))
                    .col(uuid_null(Allegations::DuplicateOfId))
                    .col(text_null(Allegations::MessageForSource))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_allegations_duplicate_of")
                            .from(Allegations::Table, Allegations::DuplicateOfId)
                            .to(Allegations::Table, Allegations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_allegations_status")
                    .table(Allegations::Table)
                    .col(Allegations::Status)
                    .col(Allegations::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_allegations_received_at")
                    .table(Allegations::Table)
                    .col(Allegations::ReceivedAt)
                    .to_owned(),
            )
            .await?;

        child_table(
            manager,
            AllegationViolationTypes::Table,
            vec![string(AllegationViolationTypes::ViolationType)],
        )
        .await?;
        child_table(
            manager,
            AllegationPerpetrators::Table,
            vec![
                string_null(AllegationPerpetrators::PartyCode),
                text_null(AllegationPerpetrators::Unit),
                text_null(AllegationPerpetrators::Description),
            ],
        )
        .await?;
        child_table(
            manager,
            AllegationVictimGroups::Table,
            vec![
                integer(AllegationVictimGroups::Count),
                string(AllegationVictimGroups::Status),
                string(AllegationVictimGroups::Harm),
                string(AllegationVictimGroups::AgeGroup),
                string(AllegationVictimGroups::Sex),
            ],
        )
        .await?;
        child_table(
            manager,
            AllegationSourceUrls::Table,
            vec![text(AllegationSourceUrls::Url)],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_allegation_violation_types_type")
                    .table(AllegationViolationTypes::Table)
                    .col(AllegationViolationTypes::ViolationType)
                    .col(Child::AllegationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_allegation_perpetrators_party")
                    .table(AllegationPerpetrators::Table)
                    .col(AllegationPerpetrators::PartyCode)
                    .col(Child::AllegationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AllegationSourceUrls::Table.into_iden(),
            AllegationVictimGroups::Table.into_iden(),
            AllegationPerpetrators::Table.into_iden(),
            AllegationViolationTypes::Table.into_iden(),
            Allegations::Table.into_iden(),
            ReferenceCounters::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// A table of one repeated part of an allegation: keyed by the allegation and the position of
/// the item in the submitted list, so that order is kept.
async fn child_table(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    let table = table.into_iden();
    let mut create = Table::create();
    create
        .table(table.clone())
        .col(uuid(Child::AllegationId))
        .col(integer(Child::Position));
    for mut column in columns {
        create.col(&mut column);
    }
    create
        .primary_key(
            Index::create()
                .col(Child::AllegationId)
                .col(Child::Position),
        )
        .foreign_key(
            ForeignKey::create()
                .from(table, Child::AllegationId)
                .to(Allegations::Table, Allegations::Id)
                .on_delete(ForeignKeyAction::Cascade),
        );
    manager.create_table(create.to_owned()).await
}

#[derive(DeriveIden)]
enum ReferenceCounters {
    Table,
    Year,
    LastNumber,
}

#[derive(DeriveIden)]
enum Allegations {
    Table,
    Id,
    Reference,
    RequestId,
    RequestFingerprint,
    Status,
    ReceivedAt,
    StatusChangedAt,
    Channel,
    SourceAnonymous,
    SourceName,
    SourceContact,
    ReceiptHash,
    Narrative,
    Language,
    PeriodStart,
    PeriodEnd,
    PeriodPrecision,
    PlaceName,
    AdminArea,
    CountryCode,
    Latitude,
    Longitude,
    LocationPrecision,
    ReviewedBy,
    RejectionReason,
    DuplicateOfId,
    MessageForSource,
}

#[derive(DeriveIden)]
enum Child {
    AllegationId,
    Position,
}

#[derive(DeriveIden)]
enum AllegationViolationTypes {
    Table,
    ViolationType,
}

#[derive(DeriveIden)]
enum AllegationPerpetrators {
    Table,
    PartyCode,
    Unit,
    Description,
}

#[derive(DeriveIden)]
enum AllegationVictimGroups {
    Table,
    Count,
    Status,
    Harm,
    AgeGroup,
    Sex,
}

#[derive(DeriveIden)]
enum AllegationSourceUrls {
    Table,
    Url,
}
