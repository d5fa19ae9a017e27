//! Outbox rows.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub topic: String,
    pub payload: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    /// The W3C `traceparent` of the change that wrote it, so its delivery joins that trace.
    pub trace_parent: Option<String>,
    /// When the dispatcher gave up on it (see `DeadLetterPolicy`); `None` while it is tried.
    pub dead_lettered_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
