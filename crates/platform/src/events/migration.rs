//! The event tables, shared by the services that publish events.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `event_log` and its head row.
#[derive(Debug)]
pub struct CreateEventLog;

impl MigrationName for CreateEventLog {
    fn name(&self) -> &str {
        "m20261128_000200_create_event_log"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateEventLog {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EventLog::Table)
                    .col(big_integer(EventLog::Sequence).primary_key())
                    .col(timestamp_with_time_zone(EventLog::OccurredAt))
                    .col(blob(EventLog::Payload))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EventHead::Table)
                    .col(integer(EventHead::Id).primary_key())
                    .col(big_integer(EventHead::LastSequence))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(EventHead::Table)
                    .columns([EventHead::Id, EventHead::LastSequence])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EventHead::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(EventLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum EventLog {
    Table,
    Sequence,
    OccurredAt,
    Payload,
}

#[derive(DeriveIden)]
enum EventHead {
    Table,
    Id,
    LastSequence,
}
