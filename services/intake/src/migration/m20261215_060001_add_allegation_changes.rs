//! Corrections: every allegation gets a version (its etag is derived from it) and the case it
//! was accepted into, when intake chose one; every change after receipt is kept field by field.
//! Existing allegations start at version 1 with no changes recorded: their history begins now.

use docket_platform::history::HistoryTables;
use sea_orm_migration::{prelude::*, schema::*};

/// Where the changes of allegations are kept.
pub const HISTORY: HistoryTables = HistoryTables {
    changes: "allegation_changes",
    fields: "allegation_field_changes",
    record: "allegation_id",
    parent: ("allegations", "id"),
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Allegations::Table)
                    .add_column(big_integer(Allegations::Version).default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Allegations::Table)
                    .add_column(uuid_null(Allegations::JoinedCaseId))
                    .to_owned(),
            )
            .await?;
        docket_platform::history::create_tables(manager, &HISTORY).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        docket_platform::history::drop_tables(manager, &HISTORY).await?;
        for column in [Allegations::JoinedCaseId, Allegations::Version] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Allegations::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Allegations {
    Table,
    Version,
    JoinedCaseId,
}
