//! The URLs where an allegation's material was seen, in the order given.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "allegation_source_urls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub allegation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub url: String,
}

impl ActiveModelBehavior for ActiveModel {}
