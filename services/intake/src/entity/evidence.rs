//! One row per evidence record; the bytes are in the blob store under `sha256`. A record belongs
//! to an allegation or is registered directly to a case: exactly one of the two is set (a CHECK
//! in the database holds it).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub allegation_id: Option<Uuid>,
    pub sha256: String,
    pub size_bytes: i64,
    pub file_name: String,
    pub declared_media_type: Option<String>,
    pub detected_media_type: Option<String>,
    pub source_url: Option<String>,
    pub captured_at: Option<DateTimeUtc>,
    pub collected_at: DateTimeUtc,
    pub collected_by: String,
    pub collection_method: String,
    pub derived_from_id: Option<Uuid>,
    pub uploaded_by: String,
    pub uploaded_at: DateTimeUtc,
    pub exif_capture_time: Option<String>,
    pub exif_latitude: Option<f64>,
    pub exif_longitude: Option<f64>,
    /// The case (in case management) it was registered to directly at upload.
    pub case_id: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
