//! The audit tables, shared by every service's migrator.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `audit_entries` and its head row.
#[derive(Debug)]
pub struct CreateAuditLog;

impl MigrationName for CreateAuditLog {
    fn name(&self) -> &str {
        "m20261128_000100_create_audit_log"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAuditLog {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEntries::Table)
                    .col(big_integer(AuditEntries::Sequence).primary_key())
                    .col(timestamp_with_time_zone(AuditEntries::OccurredAt))
                    .col(string(AuditEntries::Subject))
                    .col(string(AuditEntries::Role))
                    .col(string(AuditEntries::Method))
                    .col(text(AuditEntries::TargetIds))
                    .col(string(AuditEntries::Outcome))
                    .col(string(AuditEntries::RequestId))
                    .col(text(AuditEntries::Action))
                    .col(string(AuditEntries::PreviousHash))
                    .col(string(AuditEntries::EntryHash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_entries_occurred_at")
                    .table(AuditEntries::Table)
                    .col(AuditEntries::OccurredAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditHead::Table)
                    .col(integer(AuditHead::Id).primary_key())
                    .col(big_integer(AuditHead::LastSequence))
                    .col(string(AuditHead::LastHash))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(AuditHead::Table)
                    .columns([AuditHead::Id, AuditHead::LastSequence, AuditHead::LastHash])
                    .values_panic([1.into(), 0i64.into(), super::chain::GENESIS.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditHead::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditEntries::Table).to_owned())
            .await
    }
}

/// Adds `audit_entries.count`: how many calls an entry stands for, 1 for every entry before it.
#[derive(Debug)]
pub struct AddAuditEntryCount;

impl MigrationName for AddAuditEntryCount {
    fn name(&self) -> &str {
        "m20261216_040003_add_audit_entry_count"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddAuditEntryCount {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEntries::Table)
                    .add_column(big_integer(AuditEntries::Count).default(1))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEntries::Table)
                    .drop_column(AuditEntries::Count)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum AuditEntries {
    Table,
    Sequence,
    OccurredAt,
    Subject,
    Role,
    Method,
    TargetIds,
    Outcome,
    RequestId,
    Action,
    Count,
    PreviousHash,
    EntryHash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    LastSequence,
    LastHash,
}
