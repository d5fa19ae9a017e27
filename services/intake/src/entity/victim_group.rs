//! The victim groups of an allegation, in the order given.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "allegation_victim_groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub allegation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub count: i32,
    pub status: String,
    pub harm: String,
    pub age_group: String,
    pub sex: String,
    /// The victims' side, a party code; `NULL` when not known.
    pub affiliation_party_code: Option<String>,
    /// The children's age band, when known.
    pub age_band: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
