//! Corrections: every change of a case is kept field by field (`case_changes`,
//! `case_field_changes`), diffed against the case's fields as last recorded (`case_fields`); and
//! evidence can be unlinked, keeping who did it, when and why. Cases opened before this get a
//! first change `history begins` holding their fields as they are at their next change.

use docket_platform::history::HistoryTables;
use sea_orm_migration::{prelude::*, schema::*};

use super::m20261201_000001_create_cases::Cases;

/// Where the changes of cases are kept.
pub const HISTORY: HistoryTables = HistoryTables {
    changes: "case_changes",
    fields: "case_field_changes",
    record: "case_id",
    parent: ("cases", "id"),
};

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
                    .table(CaseFields::Table)
                    .col(uuid(CaseFields::CaseId))
                    .col(string(CaseFields::Field))
                    .col(text(CaseFields::Value))
                    .primary_key(
                        Index::create()
                            .col(CaseFields::CaseId)
                            .col(CaseFields::Field),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseFields::Table, CaseFields::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        docket_platform::history::create_tables(manager, &HISTORY).await?;
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            timestamp_with_time_zone_null(CaseEvidence::UnlinkedAt),
            text_null(CaseEvidence::UnlinkedBy),
            text_null(CaseEvidence::UnlinkReason),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseEvidence::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            CaseEvidence::UnlinkReason,
            CaseEvidence::UnlinkedBy,
            CaseEvidence::UnlinkedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseEvidence::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        docket_platform::history::drop_tables(manager, &HISTORY).await?;
        manager
            .drop_table(Table::drop().table(CaseFields::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CaseFields {
    Table,
    CaseId,
    Field,
    Value,
}

#[derive(DeriveIden)]
enum CaseEvidence {
    Table,
    UnlinkedAt,
    UnlinkedBy,
    UnlinkReason,
}
