//! Which case each delivered allegation is in. The allegation id is the key: delivering it twice
//! cannot put it in two cases.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_allegations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub allegation_id: Uuid,
    pub case_id: Uuid,
    pub reference: String,
    /// The allegation it duplicates, when it was linked as a duplicate.
    pub duplicate_of_id: Option<Uuid>,
    pub linked_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
