//! The person registry and persons' roles in cases, charges, linked evidence and its
//! assessments.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261201_000001_create_cases::Cases;

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
                    .table(Persons::Table)
                    .col(pk_uuid(Persons::Id))
                    // Sealed (AES-256-GCM) when identity_sealed; then never plaintext.
                    .col(text(Persons::DisplayName))
                    .col(text_null(Persons::Contact))
                    .col(boolean(Persons::IdentitySealed))
                    .col(timestamp_with_time_zone(Persons::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CasePersons::Table)
                    .col(uuid(CasePersons::CaseId))
                    .col(uuid(CasePersons::PersonId))
                    .col(string(CasePersons::Role))
                    .col(text_null(CasePersons::PositionTitle))
                    .col(string_null(CasePersons::AffiliationPartyCode))
                    .col(string_null(CasePersons::ModeOfLiability))
                    .col(text_null(CasePersons::Pseudonym))
                    .col(text(CasePersons::ProtectiveMeasures))
                    .col(timestamp_with_time_zone(CasePersons::AddedAt))
                    .col(timestamp_with_time_zone(CasePersons::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(CasePersons::CaseId)
                            .col(CasePersons::PersonId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CasePersons::Table, CasePersons::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CasePersons::Table, CasePersons::PersonId)
                            .to(Persons::Table, Persons::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Charges::Table)
                    .col(pk_uuid(Charges::Id))
                    .col(uuid(Charges::CaseId))
                    .col(uuid(Charges::PersonId))
                    .col(string(Charges::CrimeTypeCode))
                    .col(boolean(Charges::InAbsentia))
                    .col(string(Charges::FiledDate))
                    .col(string(Charges::Status))
                    .col(text(Charges::FiledBy))
                    .col(timestamp_with_time_zone(Charges::FiledAt))
                    .col(timestamp_with_time_zone(Charges::StatusChangedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Charges::Table, (Charges::CaseId, Charges::PersonId))
                            .to(
                                CasePersons::Table,
                                (CasePersons::CaseId, CasePersons::PersonId),
                            ),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_charges_case")
                    .table(Charges::Table)
                    .col(Charges::CaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseEvidence::Table)
                    .col(uuid(CaseEvidence::CaseId))
                    .col(uuid(CaseEvidence::EvidenceId))
                    .col(text(CaseEvidence::Description))
                    .col(text(CaseEvidence::LinkedBy))
                    .col(timestamp_with_time_zone(CaseEvidence::LinkedAt))
                    .primary_key(
                        Index::create()
                            .col(CaseEvidence::CaseId)
                            .col(CaseEvidence::EvidenceId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseEvidence::Table, CaseEvidence::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Assessments::Table)
                    .col(pk_uuid(Assessments::Id))
                    .col(uuid(Assessments::CaseId))
                    .col(uuid(Assessments::EvidenceId))
                    .col(string(Assessments::Verdict))
                    .col(string(Assessments::Method))
                    .col(text(Assessments::Examiner))
                    .col(text(Assessments::Findings))
                    .col(text(Assessments::RecordedBy))
                    .col(timestamp_with_time_zone(Assessments::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                Assessments::Table,
                                (Assessments::CaseId, Assessments::EvidenceId),
                            )
                            .to(
                                CaseEvidence::Table,
                                (CaseEvidence::CaseId, CaseEvidence::EvidenceId),
                            ),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_assessments_case_evidence")
                    .table(Assessments::Table)
                    .col(Assessments::CaseId)
                    .col(Assessments::EvidenceId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Assessments::Table.into_iden(),
            CaseEvidence::Table.into_iden(),
            Charges::Table.into_iden(),
            CasePersons::Table.into_iden(),
            Persons::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Persons {
    Table,
    Id,
    DisplayName,
    Contact,
    IdentitySealed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CasePersons {
    Table,
    CaseId,
    PersonId,
    Role,
    PositionTitle,
    AffiliationPartyCode,
    ModeOfLiability,
    Pseudonym,
    ProtectiveMeasures,
    AddedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Charges {
    Table,
    Id,
    CaseId,
    PersonId,
    CrimeTypeCode,
    InAbsentia,
    FiledDate,
    Status,
    FiledBy,
    FiledAt,
    StatusChangedAt,
}

#[derive(DeriveIden)]
enum CaseEvidence {
    Table,
    CaseId,
    EvidenceId,
    Description,
    LinkedBy,
    LinkedAt,
}

#[derive(DeriveIden)]
enum Assessments {
    Table,
    Id,
    CaseId,
    EvidenceId,
    Verdict,
    Method,
    Examiner,
    Findings,
    RecordedBy,
    RecordedAt,
}
