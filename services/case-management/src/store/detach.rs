//! Taking something out of a case, with a reason: a person removed from it, an item of evidence
//! unlinked from it. Both go through the case's etag and its history, and both reach reporting
//! with the case's next snapshot; an unlinking also reaches the item's chain of custody in
//! intake, through the outbox (see `crate::custody`).
//!
//! A removed person's role leaves the case (their registry entry stays, for other cases), and
//! the history keeps the role they had. Unlinked evidence keeps its row, marked with who
//! unlinked it, when and why, because its assessments are findings on record that must stay.

use docket_domain::history::ChangeReason;
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{DatabaseTransaction, PaginatorTrait, QueryFilter};

use super::change::ensure_not_closed;
use super::{CaseStore, etag_of, now};
use crate::custody::{self, Notice};
use crate::entity::{case, case_person, charge, evidence};
use crate::error::CaseError;

impl CaseStore {
    /// Removes person `person_id` from case `case_id`, for `reason`; returns the case's new
    /// etag. A person charged in the case stays: charges are acts on record.
    pub async fn remove_person(
        &self,
        case_id: Uuid,
        etag: Option<&str>,
        person_id: Uuid,
        reason: ChangeReason,
        call: &CallContext,
    ) -> Result<String, CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        let row = self.guard(&txn, case_id, etag).await?;
        ensure_not_closed(&row)?;
        case_person::Entity::find_by_id((case_id, person_id))
            .one(&txn)
            .await?
            .ok_or(CaseError::PersonNotFound {
                case: case_id,
                person: person_id,
            })?;
        let charged = charge::Entity::find()
            .filter(charge::Column::CaseId.eq(case_id))
            .filter(charge::Column::PersonId.eq(person_id))
            .count(&txn)
            .await?;
        if charged > 0 {
            return Err(CaseError::Precondition(format!(
                "person {person_id} is charged in case {} ({charged} charge(s)); a charged person \
                 stays in the case, and charges stay on record: withdraw them instead",
                row.reference
            )));
        }
        case_person::Entity::delete_by_id((case_id, person_id))
            .exec(&txn)
            .await?;
        let audit = AuditRecord::succeeded(
            call,
            "remove person",
            vec![case_id.to_string(), person_id.to_string()],
        );
        let etag = self.finish(txn, &row, &audit, &reason).await?;
        self.register.index_mut().remove(person_id, case_id);
        Ok(etag)
    }

    /// Unlinks evidence `evidence_id` from case `case_id`, for `reason`; returns the case's new
    /// etag. Its assessments stay; linking it again brings it back.
    pub async fn unlink_evidence(
        &self,
        case_id: Uuid,
        etag: Option<&str>,
        evidence_id: Uuid,
        reason: ChangeReason,
        call: &CallContext,
    ) -> Result<String, CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        let row = self.guard(&txn, case_id, etag).await?;
        ensure_not_closed(&row)?;
        let at = now();
        let unlinked = evidence::Entity::update_many()
            .col_expr(evidence::Column::UnlinkedAt, Expr::value(at))
            .col_expr(
                evidence::Column::UnlinkedBy,
                Expr::value(call.subject().to_owned()),
            )
            .col_expr(
                evidence::Column::UnlinkReason,
                Expr::value(reason.as_str().to_owned()),
            )
            .filter(evidence::Column::CaseId.eq(case_id))
            .filter(evidence::Column::EvidenceId.eq(evidence_id))
            .filter(evidence::Column::UnlinkedAt.is_null())
            .exec(&txn)
            .await?;
        if unlinked.rows_affected == 0 {
            return Err(CaseError::EvidenceNotLinked {
                case: case_id,
                evidence: evidence_id,
            });
        }
        custody::enqueue(
            &txn,
            Notice {
                evidence_id,
                case_id,
                case_reference: &row.reference,
                linked: false,
                actor: call.subject(),
                at,
                reason: Some(reason.as_str()),
            },
        )
        .await?;
        let audit = AuditRecord::succeeded(
            call,
            "unlink evidence",
            vec![case_id.to_string(), evidence_id.to_string()],
        );
        self.finish(txn, &row, &audit, &reason).await
    }

    /// Records the change of case `row` with `audit` and `reason`, commits it, and returns the
    /// case's new etag (its version was bumped by `guard`).
    async fn finish(
        &self,
        txn: DatabaseTransaction,
        row: &case::Model,
        audit: &AuditRecord,
        reason: &ChangeReason,
    ) -> Result<String, CaseError> {
        self.record_change_because(&txn, row.id, audit, Some(reason.as_str()))
            .await?;
        txn.commit().await?;
        self.committed();
        Ok(etag_of(row.id, row.version + 1))
    }
}
