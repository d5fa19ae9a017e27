//! Items of intake's evidence linked to a case.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_evidence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub evidence_id: Uuid,
    pub description: String,
    pub linked_by: String,
    pub linked_at: DateTimeUtc,
    /// Set while the item is unlinked; its assessments stay.
    pub unlinked_at: Option<DateTimeUtc>,
    pub unlinked_by: Option<String>,
    pub unlink_reason: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
