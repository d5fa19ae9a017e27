//! Assessments of the authenticity of a file's content, keyed by its SHA-256; never changed,
//! only added: the latest is the content's verdict.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "content_assessments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sha256: String,
    /// The record through which the content was assessed, when one was named.
    pub evidence_id: Option<Uuid>,
    pub verdict: String,
    pub method: String,
    pub confidence: String,
    pub examiner: String,
    pub notes: String,
    pub recorded_by: String,
    pub recorded_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
