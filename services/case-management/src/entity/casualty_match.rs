//! One analyst's decision on whether two named victims are the same person. Kept forever; an
//! undo marks it undone and the pair's decision is then the latest one not undone.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "casualty_match_decisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The smaller id of the pair.
    pub person_id: Uuid,
    pub other_person_id: Uuid,
    /// `confirmed` or `rejected`.
    pub decision: String,
    pub reason: String,
    pub decided_by: String,
    pub decided_at: DateTimeUtc,
    pub undone_at: Option<DateTimeUtc>,
    pub undone_by: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
