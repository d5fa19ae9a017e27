//! What an anonymous source may learn with its receipt: status and message, nothing else.

use docket_domain::allegation::AllegationStatus;
use sea_orm::QuerySelect;
use sea_orm::entity::prelude::*;

use super::AllegationStore;
use crate::entity::allegation;
use crate::error::IntakeError;

impl AllegationStore {
    /// The status and message for the source of the allegation whose receipt hashes to
    /// `receipt_hash`, if any.
    pub async fn status_by_receipt(
        &self,
        receipt_hash: &str,
    ) -> Result<Option<(AllegationStatus, Option<String>)>, IntakeError> {
        let row: Option<(String, Option<String>)> = allegation::Entity::find()
            .select_only()
            .column(allegation::Column::Status)
            .column(allegation::Column::MessageForSource)
            .filter(allegation::Column::ReceiptHash.eq(receipt_hash))
            .into_tuple()
            .one(&self.db)
            .await?;
        match row {
            Some((status, message)) => Ok(Some((AllegationStatus::from_code(&status)?, message))),
            None => Ok(None),
        }
    }
}
