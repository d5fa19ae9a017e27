//! One row per allegation: its scalar fields and its triage state.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "allegations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reference: String,
    pub request_id: String,
    /// SHA-256 of the submitted message, to tell a retry from a different request reusing an id.
    pub request_fingerprint: String,
    pub status: String,
    pub received_at: DateTimeUtc,
    pub status_changed_at: DateTimeUtc,
    pub channel: String,
    pub source_anonymous: bool,
    /// Sealed: see `docket_platform::sealing`.
    pub source_name: Option<String>,
    /// Sealed: see `docket_platform::sealing`.
    pub source_contact: Option<String>,
    /// SHA-256 of an anonymous source's receipt; the receipt itself is never stored.
    pub receipt_hash: Option<String>,
    pub narrative: String,
    pub language: String,
    pub period_start: Option<DateTimeUtc>,
    pub period_end: Option<DateTimeUtc>,
    pub period_precision: Option<String>,
    pub place_name: Option<String>,
    pub admin_area: Option<String>,
    pub country_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub location_precision: Option<String>,
    pub reviewed_by: Option<String>,
    pub rejection_reason: Option<String>,
    pub duplicate_of_id: Option<Uuid>,
    pub message_for_source: Option<String>,
    /// Bumped by every change after receipt; the etag is derived from it.
    pub version: i64,
    /// The existing case the allegation was accepted into, when intake chose one.
    pub joined_case_id: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
