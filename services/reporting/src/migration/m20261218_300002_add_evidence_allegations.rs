//! Which allegation each evidence record was uploaded with, so that allegations can be counted by
//! the material they rest on (`DIMENSION_MATERIAL`). Filled from intake's `EvidenceRecorded`
//! events as they come; records whose event was applied before this version are not known here
//! until reporting's projections are rebuilt from the streams, and their allegations count as
//! resting on no evidence meanwhile (stated in the dimension's comment).

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
                    .table(Alias::new("evidence_allegations"))
                    .col(string(Alias::new("evidence_id")).primary_key())
                    .col(string(Alias::new("allegation_id")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_evidence_allegations_allegation")
                    .table(Alias::new("evidence_allegations"))
                    .col(Alias::new("allegation_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("evidence_allegations"))
                    .to_owned(),
            )
            .await
    }
}
