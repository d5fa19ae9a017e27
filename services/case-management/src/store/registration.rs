//! Evidence registered directly to a case at upload in intake (material gathered during an
//! investigation, which came with no allegation). Intake asked this service whether the case was
//! open before it kept the file, recorded the registration in the item's chain of custody, and
//! delivers it here through its outbox until it is linked. The link is made once per case and
//! item: a repeated delivery finds it and changes nothing, and an item the case unlinked stays
//! unlinked (someone decided so; a delivery does not undo it). A case closed since the upload
//! still takes the link, which records what happened while it was open. No custody notice goes
//! back to intake: its `registered_to_case` event stands for this link.

use docket_domain::case::EvidenceDescription;
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_proto::docket::cases::v1 as pb;
use sea_orm::SqlErr;
use sea_orm::entity::prelude::*;

use super::CaseStore;
use super::evidence::{insert_link, linked_wire, standings};
use crate::entity::evidence;
use crate::error::CaseError;
use crate::intake::RegisteredEvidence;

impl CaseStore {
    /// Links `item`, which intake holds registered to case `case_id`, to that case; returns the
    /// link and whether this call made it.
    pub async fn receive_evidence(
        &self,
        case_id: Uuid,
        item: &RegisteredEvidence,
        call: &CallContext,
    ) -> Result<(pb::LinkedEvidence, bool), CaseError> {
        match self.try_receive_evidence(case_id, item, call).await {
            // A concurrent delivery of the same item won the race (PostgreSQL).
            Err(CaseError::Database(error))
                if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                match self.held(case_id, item.id).await? {
                    Some(held) => Ok((held, false)),
                    None => Err(CaseError::Database(error)),
                }
            }
            other => other,
        }
    }

    /// The link of `evidence_id` to `case_id`, linked or unlinked, if the case holds one.
    async fn held(
        &self,
        case_id: Uuid,
        evidence_id: Uuid,
    ) -> Result<Option<pb::LinkedEvidence>, CaseError> {
        let Some(row) = evidence::Entity::find_by_id((case_id, evidence_id))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let standing = standings(&self.db, case_id).await?;
        Ok(Some(linked_wire(row, &standing)?))
    }

    async fn try_receive_evidence(
        &self,
        case_id: Uuid,
        item: &RegisteredEvidence,
        call: &CallContext,
    ) -> Result<(pb::LinkedEvidence, bool), CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        if let Some(existing) = evidence::Entity::find_by_id((case_id, item.id))
            .one(&txn)
            .await?
        {
            let standing = standings(&txn, case_id).await?;
            return Ok((linked_wire(existing, &standing)?, false));
        }
        // Unknown case: NOT_FOUND. Closed or not, the case's version moves: its evidence changed.
        self.guard(&txn, case_id, None).await?;
        let description = EvidenceDescription::parse(format!(
            "{}, registered to the case at upload",
            item.file_name
        ))
        .map(EvidenceDescription::into_inner)
        .unwrap_or_else(|_| "evidence registered to the case at upload".to_owned());
        let linked = insert_link(&txn, case_id, item.id, description, &item.uploaded_by).await?;
        let reason = format!(
            "registered to the case at upload in intake by {}",
            item.uploaded_by
        );
        self.record_change_because(
            &txn,
            case_id,
            &AuditRecord::succeeded(
                call,
                "link evidence registered to the case",
                vec![case_id.to_string(), item.id.to_string()],
            ),
            Some(&reason),
        )
        .await?;
        let standing = standings(&txn, case_id).await?;
        txn.commit().await?;
        self.committed();
        Ok((linked_wire(linked, &standing)?, true))
    }
}
