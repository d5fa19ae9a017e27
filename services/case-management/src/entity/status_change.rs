//! The lifecycle history of a case: one row per move, numbered from 1 (the opening).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_status_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub sequence: i32,
    /// `None` for the opening.
    pub from_status: Option<String>,
    pub to_status: String,
    pub close_reason: Option<String>,
    pub note: Option<String>,
    pub merged_into_case_id: Option<Uuid>,
    pub changed_by: String,
    pub changed_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
