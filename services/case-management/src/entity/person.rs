//! The person registry: one row per person, whatever the number of cases they stand in.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Sealed when `identity_sealed`: see `docket_platform::sealing`.
    pub display_name: String,
    /// Sealed when `identity_sealed`.
    pub contact: Option<String>,
    /// Set once the person is a witness in any case; never cleared.
    pub identity_sealed: bool,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
