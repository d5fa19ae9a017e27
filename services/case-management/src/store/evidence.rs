//! Evidence linked to a case and the assessments of its authenticity. Assessments are only
//! added: the history stays, and the latest verdict is the item's standing.

use std::collections::HashMap;

use docket_domain::case::{AssessmentMethod, EvidenceDescription, Examiner, Findings, Verdict};
use docket_domain::history::ChangeReason;
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::paging::{Page, split_time_and_id, time_and_id};
use docket_proto::docket::cases::v1 as pb;
use docket_proto::timestamp;
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, QueryOrder, QuerySelect};

use super::change::ensure_not_closed;
use super::{CaseStore, etag_of, now};
use crate::custody::{self, Notice};
use crate::entity::{assessment, case, evidence};
use crate::error::CaseError;
use crate::intake::ContentStanding;

/// A valid `LinkEvidence` request.
#[derive(Debug, Clone)]
pub struct EvidenceLink {
    pub evidence_id: Uuid,
    pub description: EvidenceDescription,
    /// Why, when the caller said: kept in the case's history and the item's custody.
    pub reason: Option<ChangeReason>,
}

/// A valid `RecordAssessment` request.
#[derive(Debug, Clone)]
pub struct NewAssessment {
    pub evidence_id: Uuid,
    pub verdict: Verdict,
    pub method: AssessmentMethod,
    pub examiner: Examiner,
    pub findings: Findings,
}

impl CaseStore {
    /// Links an item of intake's evidence to case `case_id`; linking it again changes nothing.
    pub async fn link_evidence(
        &self,
        case_id: Uuid,
        etag: Option<&str>,
        link: EvidenceLink,
        call: &CallContext,
    ) -> Result<(pb::LinkedEvidence, String), CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        let row = self.guard(&txn, case_id, etag).await?;
        ensure_not_closed(&row)?;
        // The id was checked against intake before this transaction (see `crate::intake`).
        let existing = evidence::Entity::find_by_id((case_id, link.evidence_id))
            .one(&txn)
            .await?;
        let newly = existing
            .as_ref()
            .is_none_or(|existing| existing.unlinked_at.is_some());
        let linked = match existing {
            Some(existing) if existing.unlinked_at.is_none() => existing,
            // Unlinked before: linked again, by this caller, now; the unlinking stays in the
            // case's history.
            Some(unlinked) => {
                let mut relinked: evidence::ActiveModel = unlinked.into();
                relinked.description = Set(link.description.into_inner());
                relinked.linked_by = Set(call.subject().to_owned());
                relinked.linked_at = Set(now());
                relinked.unlinked_at = Set(None);
                relinked.unlinked_by = Set(None);
                relinked.unlink_reason = Set(None);
                relinked.update(&txn).await?
            }
            None => {
                insert_link(
                    &txn,
                    case_id,
                    link.evidence_id,
                    link.description.into_inner(),
                    call.subject(),
                )
                .await?
            }
        };
        // An item linked already stays as it was, and its custody with it.
        if newly {
            custody::enqueue(
                &txn,
                Notice {
                    evidence_id: link.evidence_id,
                    case_id,
                    case_reference: &row.reference,
                    linked: true,
                    actor: call.subject(),
                    at: linked.linked_at,
                    reason: link.reason.as_ref().map(ChangeReason::as_str),
                },
            )
            .await?;
        }
        self.record_change_because(
            &txn,
            case_id,
            &AuditRecord::succeeded(
                call,
                "link evidence",
                vec![case_id.to_string(), link.evidence_id.to_string()],
            ),
            link.reason.as_ref().map(ChangeReason::as_str),
        )
        .await?;
        let standing = standings(&txn, case_id).await?;
        txn.commit().await?;
        self.committed();
        Ok((
            linked_wire(linked, &standing)?,
            etag_of(case_id, row.version + 1),
        ))
    }

    /// One page of the evidence linked to case `case_id` (not what was unlinked) with each
    /// item's standing, in the order linked, and the next page's token.
    pub async fn evidence(
        &self,
        case_id: Uuid,
        page: &Page,
    ) -> Result<(Vec<pb::LinkedEvidence>, String), CaseError> {
        exists(&self.db, case_id).await?;
        let standing = standings(&self.db, case_id).await?;
        let mut select = evidence::Entity::find()
            .filter(evidence::Column::CaseId.eq(case_id))
            .filter(evidence::Column::UnlinkedAt.is_null());
        if let Some((at, id)) = page.after.as_deref().and_then(split_time_and_id) {
            let at = DateTimeUtc::from_timestamp_micros(at).unwrap_or_default();
            select = select.filter(
                Condition::any().add(evidence::Column::LinkedAt.gt(at)).add(
                    Condition::all()
                        .add(evidence::Column::LinkedAt.eq(at))
                        .add(evidence::Column::EvidenceId.gt(id)),
                ),
            );
        }
        let mut rows = select
            .order_by_asc(evidence::Column::LinkedAt)
            .order_by_asc(evidence::Column::EvidenceId)
            .limit(page.limit())
            .all(&self.db)
            .await?;
        let token = page.finish(&mut rows, |row| {
            time_and_id(row.linked_at.timestamp_micros(), &row.evidence_id)
        });
        let items = rows
            .into_iter()
            .map(|row| linked_wire(row, &standing))
            .collect::<Result<_, _>>()?;
        Ok((items, token))
    }

    /// Records an assessment of an item linked to case `case_id`.
    pub async fn record_assessment(
        &self,
        case_id: Uuid,
        etag: Option<&str>,
        new: NewAssessment,
        call: &CallContext,
    ) -> Result<(pb::Assessment, String), CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        let row = self.guard(&txn, case_id, etag).await?;
        ensure_not_closed(&row)?;
        evidence::Entity::find_by_id((case_id, new.evidence_id))
            .one(&txn)
            .await?
            .filter(|linked| linked.unlinked_at.is_none())
            .ok_or(CaseError::EvidenceNotLinked {
                case: case_id,
                evidence: new.evidence_id,
            })?;
        let recorded = assessment::Entity::insert(assessment::ActiveModel {
            id: Set(Uuid::now_v7()),
            case_id: Set(case_id),
            evidence_id: Set(new.evidence_id),
            verdict: Set(new.verdict.code().to_owned()),
            method: Set(new.method.code().to_owned()),
            examiner: Set(new.examiner.into_inner()),
            findings: Set(new.findings.into_inner()),
            recorded_by: Set(call.subject().to_owned()),
            recorded_at: Set(now()),
        })
        .exec_with_returning(&txn)
        .await?;
        self.record_change(
            &txn,
            case_id,
            &AuditRecord::succeeded(
                call,
                "record assessment",
                vec![
                    case_id.to_string(),
                    new.evidence_id.to_string(),
                    recorded.id.to_string(),
                ],
            ),
        )
        .await?;
        txn.commit().await?;
        self.committed();
        Ok((
            assessment_wire(recorded)?,
            etag_of(case_id, row.version + 1),
        ))
    }

    /// One page of the assessments of case `case_id`, optionally of one item, oldest first,
    /// and the next page's token.
    pub async fn assessments(
        &self,
        case_id: Uuid,
        evidence_id: Option<Uuid>,
        page: &Page,
    ) -> Result<(Vec<pb::Assessment>, String), CaseError> {
        exists(&self.db, case_id).await?;
        let mut select = assessment::Entity::find().filter(assessment::Column::CaseId.eq(case_id));
        if let Some(evidence_id) = evidence_id {
            select = select.filter(assessment::Column::EvidenceId.eq(evidence_id));
        }
        if let Some(after) = page.after.as_deref().and_then(|p| Uuid::from_slice(p).ok()) {
            select = select.filter(assessment::Column::Id.gt(after));
        }
        let mut rows = select
            .order_by_asc(assessment::Column::Id)
            .limit(page.limit())
            .all(&self.db)
            .await?;
        let token = page.finish(&mut rows, |row| row.id.as_bytes().to_vec());
        let items = rows
            .into_iter()
            .map(assessment_wire)
            .collect::<Result<_, _>>()?;
        Ok((items, token))
    }
}

/// Links evidence `evidence_id` to case `case_id`, by `by` (the caller, or who registered the
/// item to the case), now.
pub(super) async fn insert_link<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    evidence_id: Uuid,
    description: String,
    by: &str,
) -> Result<evidence::Model, CaseError> {
    Ok(evidence::Entity::insert(evidence::ActiveModel {
        case_id: Set(case_id),
        evidence_id: Set(evidence_id),
        description: Set(description),
        linked_by: Set(by.to_owned()),
        linked_at: Set(now()),
        unlinked_at: Set(None),
        unlinked_by: Set(None),
        unlink_reason: Set(None),
    })
    .exec_with_returning(conn)
    .await?)
}

async fn exists<C: ConnectionTrait>(conn: &C, case_id: Uuid) -> Result<(), CaseError> {
    case::Entity::find_by_id(case_id)
        .one(conn)
        .await?
        .map(|_| ())
        .ok_or(CaseError::CaseNotFound(case_id))
}

/// What the case's event says of its evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct EvidenceStanding {
    /// Evidence is linked (unlinked items aside) and every linked item stands judged fabricated
    /// by this case's own assessments.
    pub only_fabricated: bool,
    /// The items linked now.
    pub linked: Vec<Uuid>,
    /// Those of `linked` whose latest assessment in this case judges them fabricated.
    pub case_fabricated: Vec<Uuid>,
}

/// The evidence linked to case `case_id` and how this case's own assessments judge it. The
/// verdicts on content live in intake; readers of the event combine the two.
pub(super) async fn evidence_standing<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<EvidenceStanding, CaseError> {
    let linked: Vec<Uuid> = evidence::Entity::find()
        .filter(evidence::Column::CaseId.eq(case_id))
        .filter(evidence::Column::UnlinkedAt.is_null())
        .order_by_asc(evidence::Column::EvidenceId)
        .all(conn)
        .await?
        .into_iter()
        .map(|item| item.evidence_id)
        .collect();
    let standing = standings(conn, case_id).await?;
    let case_fabricated: Vec<Uuid> = linked
        .iter()
        .copied()
        .filter(|id| standing.get(id).is_some_and(|v| v.judged_fabricated()))
        .collect();
    Ok(EvidenceStanding {
        only_fabricated: !linked.is_empty() && case_fabricated.len() == linked.len(),
        linked,
        case_fabricated,
    })
}

/// The latest verdict of each assessed item of case `case_id`. Ids are UUID v7, so the last by
/// id is the latest.
pub(super) async fn standings<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<HashMap<Uuid, Verdict>, CaseError> {
    let mut standing = HashMap::new();
    for row in assessment::Entity::find()
        .filter(assessment::Column::CaseId.eq(case_id))
        .order_by_asc(assessment::Column::Id)
        .all(conn)
        .await?
    {
        standing.insert(row.evidence_id, Verdict::from_code(&row.verdict)?);
    }
    Ok(standing)
}

pub(super) fn linked_wire(
    row: evidence::Model,
    standing: &HashMap<Uuid, Verdict>,
) -> Result<pb::LinkedEvidence, CaseError> {
    Ok(pb::LinkedEvidence {
        evidence_id: row.evidence_id.to_string(),
        description: row.description,
        linked_by: row.linked_by,
        linked_at: Some(timestamp(row.linked_at)),
        standing: standing
            .get(&row.evidence_id)
            .map_or(0, |v| pb::Verdict::from(*v).into()),
        // Intake holds the verdicts on content: see `with_content_verdicts`.
        content_verdict: 0,
        review_flags: Vec::new(),
    })
}

fn assessment_wire(row: assessment::Model) -> Result<pb::Assessment, CaseError> {
    Ok(pb::Assessment {
        id: row.id.to_string(),
        evidence_id: row.evidence_id.to_string(),
        verdict: pb::Verdict::from(Verdict::from_code(&row.verdict)?).into(),
        method: pb::AssessmentMethod::from(AssessmentMethod::from_code(&row.method)?).into(),
        examiner: row.examiner,
        findings: row.findings,
        recorded_by: row.recorded_by,
        recorded_at: Some(timestamp(row.recorded_at)),
    })
}

/// `items` with the verdict intake holds on each one's content (`content_of`), which becomes the
/// item's standing where there is one (this case's own assessment stands only where the content
/// has none), and the content's open review flags.
pub fn with_content_verdicts(
    mut items: Vec<pb::LinkedEvidence>,
    content_of: &HashMap<String, ContentStanding>,
) -> Vec<pb::LinkedEvidence> {
    for item in &mut items {
        let Some(content) = content_of.get(&item.evidence_id) else {
            continue;
        };
        if let Some(verdict) = content.verdict {
            let wire: i32 = pb::Verdict::from(verdict).into();
            item.content_verdict = wire;
            item.standing = wire;
        }
        item.review_flags.clone_from(&content.review_flags);
    }
    items
}
