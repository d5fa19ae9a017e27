//! Exports name each case by its reference and date it by its opening, which the first
//! projection did not keep. Cases projected before this migration get them when the
//! case-management stream is replayed: its cursor is dropped here, and since applying a
//! `CaseChanged` replaces the case and moves the rollups by the difference, replaying over the
//! stored cases changes no total once it has caught up (meanwhile `GetProjectionStatus` shows
//! the lag, and a case may briefly show an earlier state).

use sea_orm_migration::{prelude::*, schema::*};

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
                    .table(Alias::new("case_facts"))
                    .add_column(text_null(Alias::new("reference")))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("case_facts"))
                    .add_column(timestamp_with_time_zone_null(Alias::new("opened_time")))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM stream_cursors WHERE stream = 'case-management'")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["opened_time", "reference"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("case_facts"))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
