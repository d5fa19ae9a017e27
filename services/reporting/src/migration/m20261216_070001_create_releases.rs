//! Releases: each published file kept for good, with the true value of every cell it covered
//! (for the office only), against which later releases are protected.

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
                    .table(Alias::new("releases"))
                    .col(big_integer(Alias::new("number")).primary_key())
                    .col(text(Alias::new("title")))
                    .col(timestamp_with_time_zone(Alias::new("created_time")))
                    .col(text(Alias::new("document_sha256")))
                    .col(text(Alias::new("signed_file")))
                    .col(text(Alias::new("true_cells")))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("releases")).to_owned())
            .await
    }
}
