//! A person's role in one case, with the details of that role.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_persons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    pub role: String,
    /// A suspect's position or rank.
    pub position_title: Option<String>,
    pub affiliation_party_code: Option<String>,
    pub mode_of_liability: Option<String>,
    pub pseudonym: Option<String>,
    pub protective_measures: String,
    /// A named victim's register details (`victim_status` set means they were given).
    pub victim_status: Option<String>,
    pub harm: Option<String>,
    pub sex: Option<String>,
    pub age_years: Option<i32>,
    pub birth_year: Option<i32>,
    /// `YYYY-MM-DD`.
    pub harm_date: Option<String>,
    pub harm_place: Option<String>,
    /// The allegations reporting the victim, as `,id,id,`.
    pub source_allegation_ids: Option<String>,
    pub added_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
