//! Rollup cells and the source's head beside each cursor.
//!
//! Rollups are built by the projector as it applies events, so projections made before them
//! are dropped here and rebuilt: the cursors go back to the start and the projector replays both
//! streams. Events are kept at their source for this.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables emptied for the replay; the cursors last, after the facts they stand for.
const REPLAYED: [&str; 9] = [
    "allegation_violations",
    "allegation_parties",
    "allegation_facts",
    "case_parties",
    "case_crime_types",
    "case_victims",
    "case_charges",
    "case_facts",
    "stream_cursors",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("stat_rollups"))
                    .col(text(Alias::new("measure")))
                    .col(text(Alias::new("dims")))
                    .col(text(Alias::new("key1")))
                    .col(text(Alias::new("key2")))
                    .col(big_integer(Alias::new("value")))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("measure"))
                            .col(Alias::new("dims"))
                            .col(Alias::new("key1"))
                            .col(Alias::new("key2")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("stream_cursors"))
                    .add_column(big_integer(Alias::new("source_head")).default(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for table in REPLAYED {
            db.execute_unprepared(&format!("DELETE FROM {table}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("stream_cursors"))
                    .drop_column(Alias::new("source_head"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Alias::new("stat_rollups")).to_owned())
            .await
    }
}
