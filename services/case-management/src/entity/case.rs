//! One row per case: its scalar fields and its version behind the etag. Its lists of codes are
//! in `case_codes`, its victim groups in `case_victim_groups`.

use docket_domain::case::CaseStatus;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reference: String,
    pub title: String,
    pub summary: Option<String>,
    pub status: String,
    /// Incremented by every change to the case or its parts; the etag is derived from it.
    pub version: i64,
    pub period_start: Option<DateTimeUtc>,
    pub period_end: Option<DateTimeUtc>,
    pub period_precision: Option<String>,
    pub place_name: Option<String>,
    pub admin_area: Option<String>,
    pub country_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub location_precision: Option<String>,
    pub assigned_investigator: Option<String>,
    pub assigned_prosecutor: Option<String>,
    pub opened_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub close_reason: Option<String>,
    pub merged_into_case_id: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}

impl ActiveModel {
    /// A case just opened, with its id, reference and title only: the row its content is then
    /// applied to.
    pub fn opened(id: Uuid, reference: String, title: String, at: DateTimeUtc) -> Self {
        use sea_orm::ActiveValue::Set;
        ActiveModel {
            id: Set(id),
            reference: Set(reference),
            title: Set(title),
            summary: Set(None),
            status: Set(CaseStatus::Open.code().to_owned()),
            version: Set(1),
            period_start: Set(None),
            period_end: Set(None),
            period_precision: Set(None),
            place_name: Set(None),
            admin_area: Set(None),
            country_code: Set(None),
            latitude: Set(None),
            longitude: Set(None),
            location_precision: Set(None),
            assigned_investigator: Set(None),
            assigned_prosecutor: Set(None),
            opened_at: Set(at),
            updated_at: Set(at),
            close_reason: Set(None),
            merged_into_case_id: Set(None),
        }
    }
}
