//! The violation types an allegation alleges, in the order given.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "allegation_violation_types")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub allegation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub violation_type: String,
}

impl ActiveModelBehavior for ActiveModel {}
