//! Evidence registered directly to a case at upload.
//!
//! A file belongs to an allegation, or is registered directly to a case (material gathered
//! during an investigation, which came with no allegation). Cases live in case management, so
//! intake cannot vouch for a case id by itself: before a byte is kept, it asks case management
//! (`GetCase`, through the client it already has for deliveries and joins, see
//! `crate::delivery`) whether the case exists and is open. Unknown is NOT_FOUND, closed
//! FAILED_PRECONDITION, no answer UNAVAILABLE: the uploader learns it at once and nothing is
//! written. Keeping an upload registered to a case adds, in the same transaction, a
//! `registered_to_case` custody event (after `collected` and `uploaded`) and a `ReceiveEvidence`
//! request in the outbox, whose dispatcher delivers it until case management has linked the item
//! to the case: the case's evidence list then holds it, and no separate `linked_to_case` event
//! follows (the registration stands for that link). A case closed between the check and the
//! delivery still gets the link, as the registration happened while it was open.

use docket_domain::evidence::CustodyEventKind;
use docket_platform::auth::CallContext;
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::EvidenceDesk;
use super::records;
use crate::delivery;
use crate::entity::evidence;
use crate::error::IntakeError;

impl EvidenceDesk {
    /// In the upload's transaction: the registration of `row` to case `case_id` in its chain of
    /// custody, and its delivery to case management, which links it to the case.
    pub(super) async fn register_to_case(
        &self,
        txn: &DatabaseTransaction,
        call: &CallContext,
        row: &evidence::Model,
        case_id: Uuid,
        reference: Option<&str>,
    ) -> Result<(), IntakeError> {
        // The reference case management gave when asked; the id alone if it gave none.
        let case = reference.map_or_else(|| case_id.to_string(), str::to_owned);
        let note = format!(
            "registered to case {case} at upload by {}, with no allegation",
            call.subject()
        );
        records::record_case_custody_at(
            txn,
            row.id,
            CustodyEventKind::RegisteredToCase,
            call.subject(),
            &row.sha256,
            &note,
            row.uploaded_at,
            case_id,
        )
        .await?;
        docket_platform::outbox::enqueue(
            txn,
            delivery::EVIDENCE_TOPIC,
            delivery::receive_evidence_request(row.id, case_id),
        )
        .await?;
        Ok(())
    }
}
