//! The alleged perpetrators of an allegation, in the order given.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "allegation_perpetrators")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub allegation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub party_code: Option<String>,
    pub unit: Option<String>,
    pub description: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
