//! The append-only chain of custody of each evidence record.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "custody_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub evidence_id: Uuid,
    pub kind: String,
    pub actor: String,
    pub occurred_at: DateTimeUtc,
    pub sha256: String,
    pub note: String,
    /// The case of a link or unlink; `None` for every other kind.
    pub case_id: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
