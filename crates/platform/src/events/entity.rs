//! The event rows.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sequence: i64,
    pub occurred_at: DateTimeUtc,
    /// The encoded `docket.events.v1.EventPayload`.
    pub payload: Vec<u8>,
}

impl ActiveModelBehavior for ActiveModel {}
