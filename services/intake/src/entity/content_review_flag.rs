//! Review flags on content: near-duplicates of bytes judged fabricated, to be examined. Open while
//! `cleared_at` is null.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "content_review_flags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The flagged content.
    pub sha256: String,
    /// The content judged fabricated that it looks like.
    pub because_sha256: String,
    /// The assessment that judged it.
    pub because_assessment_id: Uuid,
    pub distance_bits: f64,
    pub matched_fraction: f64,
    pub raised_at: DateTimeUtc,
    pub cleared_at: Option<DateTimeUtc>,
    /// The assessment that cleared it.
    pub cleared_by: Option<Uuid>,
    pub cleared_reason: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
