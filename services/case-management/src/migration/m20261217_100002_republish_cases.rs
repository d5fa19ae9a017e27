//! Marks every case to be published to reporting once more, as it now stands. Cases closed (as
//! not a crime, say) before the events carried a close reason were published without one, and
//! reporting kept counting them until their next change; no event published before carried
//! named victims. Case management publishes each marked case's snapshot at its next start and
//! unmarks it in the same transaction (see `CaseStore::republish_marked`); reporting replaces
//! what it held, so a case published twice counts once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CasesToRepublish {
    Table,
    CaseId,
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
                    .table(CasesToRepublish::Table)
                    .col(uuid(CasesToRepublish::CaseId).primary_key())
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO cases_to_republish (case_id) SELECT id FROM cases")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CasesToRepublish::Table).to_owned())
            .await
    }
}
