//! Opening cases: by hand, and from allegations intake delivers (idempotent per allegation). An
//! allegation's evidence follows it into the case it opens or joins.

use docket_domain::case::{
    CaseContent, CaseStatus, EvidenceDescription, ReceivedAllegation, join_victims,
};
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_proto::docket::cases::v1 as pb;
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::{DatabaseTransaction, SqlErr};

use super::content::{Move, apply, read_victims, record_move, write_victims};
use super::evidence::insert_link;
use super::read::load_one;
use super::{CaseStore, next_reference, now};
use crate::custody::{self, Notice};
use crate::entity::{case, case_allegation, evidence};
use crate::error::CaseError;
use crate::intake::AllegationEvidence;

/// What `ReceiveAllegation` did.
#[derive(Debug)]
pub struct Received {
    pub case: pb::Case,
    pub created: bool,
    pub linked_as_duplicate: bool,
}

impl CaseStore {
    /// Opens a case by hand with `content`.
    pub async fn open(
        &self,
        content: Vec<CaseContent>,
        call: &CallContext,
    ) -> Result<pb::Case, CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        let id = insert_case(&txn, &content, call.subject(), "opened").await?;
        self.record_change(
            &txn,
            id,
            &AuditRecord::succeeded(call, "open case", vec![id.to_string()]),
        )
        .await?;
        let case = load_one(&txn, id).await?;
        txn.commit().await?;
        self.committed();
        Ok(case)
    }

    /// Opens a case from `allegation`, or links it to the case of the allegation it duplicates;
    /// a repeated delivery returns the case the allegation is already in.
    ///
    /// The allegation's `evidence` (as intake holds it) follows it into the case: each item is
    /// linked, with its custody notice, unless the case has it already or had it unlinked.
    pub async fn receive(
        &self,
        allegation: ReceivedAllegation,
        evidence: &[AllegationEvidence],
        call: &CallContext,
    ) -> Result<Received, CaseError> {
        match self.try_receive(&allegation, evidence, call).await {
            // A concurrent delivery of the same allegation won the race (PostgreSQL; SQLite
            // serialises writers): it is now a repeated delivery.
            Err(CaseError::Database(error))
                if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                self.already_received(&allegation)
                    .await?
                    .ok_or(CaseError::Database(error))
            }
            // The case it joins (or its original's) changed under it: by the same delivery, if
            // that one committed first; otherwise the dispatcher delivers it again.
            Err(CaseError::StaleEtag(case)) => self
                .already_received(&allegation)
                .await?
                .ok_or(CaseError::StaleEtag(case)),
            other => other,
        }
    }

    async fn already_received(
        &self,
        allegation: &ReceivedAllegation,
    ) -> Result<Option<Received>, CaseError> {
        let Some(link) = case_allegation::Entity::find_by_id(allegation.id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Received {
            case: load_one(&self.db, link.case_id).await?,
            created: false,
            linked_as_duplicate: link.duplicate_of_id.is_some(),
        }))
    }

    async fn try_receive(
        &self,
        allegation: &ReceivedAllegation,
        evidence: &[AllegationEvidence],
        call: &CallContext,
    ) -> Result<Received, CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        if let Some(link) = case_allegation::Entity::find_by_id(allegation.id)
            .one(&txn)
            .await?
        {
            return Ok(Received {
                case: load_one(&txn, link.case_id).await?,
                created: false,
                linked_as_duplicate: link.duplicate_of_id.is_some(),
            });
        }
        let (case_id, action) = match (allegation.duplicate_of, allegation.join_case) {
            (Some(original), _) => {
                // Casualty figures belong to the case: the duplicate reports the same victims,
                // so only the link is recorded and the case's figures stay as they are.
                let original_link = case_allegation::Entity::find_by_id(original)
                    .one(&txn)
                    .await?
                    .ok_or_else(|| {
                        CaseError::Precondition(format!(
                            "allegation {} duplicates allegation {original}, which is in no case \
                             yet; deliver the original first",
                            allegation.id
                        ))
                    })?;
                self.guard(&txn, original_link.case_id, None).await?;
                (original_link.case_id, "link duplicate allegation")
            }
            (None, Some(target)) => match joinable(&txn, target).await? {
                Ok(case_id) => {
                    // A related report of other victims: they are added to the case's figures,
                    // once, since the link below makes a second delivery a repeated one.
                    self.guard(&txn, case_id, None).await?;
                    let victims = read_victims(&txn, case_id).await?;
                    let joined = join_victims(victims, allegation.victims.clone());
                    write_victims(&txn, case_id, &joined).await?;
                    (case_id, "join allegation to case")
                }
                // Closed meanwhile: the allegation still gets a case, which says why it is new.
                Err(why) => (
                    insert_case(&txn, &allegation.case_content(), call.subject(), &why).await?,
                    "open case from allegation",
                ),
            },
            (None, None) => (
                insert_case(&txn, &allegation.case_content(), call.subject(), "opened").await?,
                "open case from allegation",
            ),
        };
        case_allegation::Entity::insert(case_allegation::ActiveModel {
            allegation_id: Set(allegation.id),
            case_id: Set(case_id),
            reference: Set(allegation.reference.to_string()),
            duplicate_of_id: Set(allegation.duplicate_of),
            linked_at: Set(now()),
        })
        .exec_without_returning(&txn)
        .await?;
        carry_evidence(&txn, case_id, allegation, evidence, call).await?;
        self.record_change(
            &txn,
            case_id,
            &AuditRecord::succeeded(
                call,
                action,
                vec![case_id.to_string(), allegation.id.to_string()],
            ),
        )
        .await?;
        let case = load_one(&txn, case_id).await?;
        txn.commit().await?;
        self.committed();
        Ok(Received {
            case,
            created: true,
            linked_as_duplicate: allegation.duplicate_of.is_some(),
        })
    }
}

/// Links `evidence`, the records of `allegation`, to case `case_id`, each with its custody
/// notice. An item the case holds already, linked or unlinked, stays as it is: an unlinking was
/// someone's decision, which a delivery does not undo.
async fn carry_evidence(
    txn: &DatabaseTransaction,
    case_id: Uuid,
    allegation: &ReceivedAllegation,
    evidence: &[AllegationEvidence],
    call: &CallContext,
) -> Result<(), CaseError> {
    if evidence.is_empty() {
        return Ok(());
    }
    let reference = case::Entity::find_by_id(case_id)
        .one(txn)
        .await?
        .ok_or(CaseError::CaseNotFound(case_id))?
        .reference;
    let reason = format!(
        "came with allegation {} into the case",
        allegation.reference
    );
    for item in evidence {
        if evidence::Entity::find_by_id((case_id, item.id))
            .one(txn)
            .await?
            .is_some()
        {
            continue;
        }
        let description = format!(
            "{}, from allegation {}",
            item.file_name, allegation.reference
        );
        let description = EvidenceDescription::parse(description)
            .map(EvidenceDescription::into_inner)
            .unwrap_or_else(|_| format!("evidence of allegation {}", allegation.reference));
        let linked = insert_link(txn, case_id, item.id, description, call.subject()).await?;
        custody::enqueue(
            txn,
            Notice {
                evidence_id: item.id,
                case_id,
                case_reference: &reference,
                linked: true,
                actor: call.subject(),
                at: linked.linked_at,
                reason: Some(&reason),
            },
        )
        .await?;
    }
    Ok(())
}

/// The case an allegation that joins case `target` goes to: `target`, or the case it was merged
/// into (and so on); or why it can go to none (closed otherwise, or unknown), for the note of
/// the case opened from it instead.
async fn joinable(
    txn: &DatabaseTransaction,
    target: Uuid,
) -> Result<Result<Uuid, String>, CaseError> {
    /// Merges are followed this far at most: a chain longer than this is a loop.
    const MAX_MERGES: usize = 32;
    let mut id = target;
    for _ in 0..MAX_MERGES {
        let Some(case) = case::Entity::find_by_id(id).one(txn).await? else {
            return Ok(Err(format!(
                "opened: the case {id} the allegation was accepted into is unknown"
            )));
        };
        if case.status != CaseStatus::Closed.code() {
            return Ok(Ok(id));
        }
        match case.merged_into_case_id {
            Some(into) => id = into,
            None => {
                return Ok(Err(format!(
                    "opened: case {} the allegation was accepted into was closed before it                      arrived",
                    case.reference
                )));
            }
        }
    }
    Ok(Err(format!(
        "opened: the case {target} the allegation was accepted into was merged in a loop"
    )))
}

/// Inserts a new OPEN case with `content` and the opening, with `note`, in its history; returns
/// its id.
async fn insert_case(
    txn: &DatabaseTransaction,
    content: &[CaseContent],
    opened_by: &str,
    note: &str,
) -> Result<Uuid, CaseError> {
    let id = Uuid::now_v7();
    let opened_at = now();
    let reference = next_reference(txn, opened_at).await?;
    let mut row = case::ActiveModel::opened(id, reference.to_string(), String::new(), opened_at);
    let parts = apply(&mut row, content);
    case::Entity::insert(row)
        .exec_without_returning(txn)
        .await?;
    parts.write(txn, id).await?;
    record_move(
        txn,
        id,
        Move {
            from: None,
            to: CaseStatus::Open,
            reason: None,
            note: Some(note),
            merged_into: None,
            by: opened_by,
            at: opened_at,
        },
    )
    .await?;
    Ok(id)
}
