//! Charges: a suspect of a case charged with one of the case's crime types.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "charges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub person_id: Uuid,
    pub crime_type_code: String,
    pub in_absentia: bool,
    /// `YYYY-MM-DD`.
    pub filed_date: String,
    pub status: String,
    pub filed_by: String,
    pub filed_at: DateTimeUtc,
    pub status_changed_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
