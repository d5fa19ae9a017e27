//! The outbox table.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `outbox`.
#[derive(Debug)]
pub struct CreateOutbox;

impl MigrationName for CreateOutbox {
    fn name(&self) -> &str {
        "m20261128_000300_create_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutbox {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(pk_uuid(Outbox::Id))
                    .col(string(Outbox::Topic))
                    .col(blob(Outbox::Payload))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::DeliveredAt))
                    .col(text_null(Outbox::LastError))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_pending")
                    .table(Outbox::Table)
                    .col(Outbox::DeliveredAt)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await
    }
}

/// Adds `outbox.trace_parent`: the trace context of the change that wrote a message.
#[derive(Debug)]
pub struct AddOutboxTraceParent;

impl MigrationName for AddOutboxTraceParent {
    fn name(&self) -> &str {
        "m20261210_000301_add_outbox_trace_parent"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddOutboxTraceParent {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(text_null(Outbox::TraceParent))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(Outbox::TraceParent)
                    .to_owned(),
            )
            .await
    }
}

/// Adds `outbox.dead_lettered_at`: messages the dispatcher gave up on, kept for a supervisor.
#[derive(Debug)]
pub struct AddOutboxDeadLetters;

impl MigrationName for AddOutboxDeadLetters {
    fn name(&self) -> &str {
        "m20261216_040002_add_outbox_dead_letters"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddOutboxDeadLetters {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(timestamp_with_time_zone_null(Outbox::DeadLetteredAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(Outbox::DeadLetteredAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Topic,
    Payload,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    DeliveredAt,
    LastError,
    TraceParent,
    DeadLetteredAt,
}
