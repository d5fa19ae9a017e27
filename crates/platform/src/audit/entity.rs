//! The audit entry rows.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sequence: i64,
    pub occurred_at: DateTimeUtc,
    pub subject: String,
    pub role: String,
    pub method: String,
    /// Target ids each between commas, `,a,b,` (ids never contain one).
    pub target_ids: String,
    pub outcome: String,
    pub request_id: String,
    pub action: String,
    /// How many calls the entry stands for (refusals are counted together).
    pub count: i64,
    pub previous_hash: String,
    pub entry_hash: String,
}

impl ActiveModelBehavior for ActiveModel {}
