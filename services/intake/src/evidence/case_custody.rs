//! Links to cases in the chain of custody. Case management owns the links; intake owns the
//! chain. A link or unlink commits in case management with a notice in its outbox, whose
//! dispatcher calls `RecordCaseCustody` until intake answers: the event is never lost to an
//! intake that was down, and never recorded for a link that did not commit. The notice's id is
//! the event's id, so a repeated delivery finds the event already there and writes nothing.

use chrono::{DateTime, SubsecRound, Utc};
use docket_domain::Violations;
use docket_domain::evidence::{CustodyEventKind, CustodyNote, PersonOrOffice};
use docket_domain::history::ChangeReason;
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::journal;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::parse_time;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, SqlErr};

use super::EvidenceDesk;
use super::records::{self, custody_message};
use crate::entity::custody_event;
use crate::error::IntakeError;
use crate::request::parse_id;

/// A checked `RecordCaseCustody` request.
#[derive(Debug, Clone)]
pub struct CaseCustody {
    pub custody_id: Uuid,
    pub evidence_id: Uuid,
    pub case_id: Uuid,
    pub case_reference: PersonOrOffice,
    pub kind: CustodyEventKind,
    pub actor: PersonOrOffice,
    pub occurred_at: DateTime<Utc>,
    pub reason: Option<ChangeReason>,
}

impl CaseCustody {
    /// The event's note: the case by reference, and why.
    fn note(&self) -> String {
        let what = if self.kind == CustodyEventKind::UnlinkedFromCase {
            "unlinked from case"
        } else {
            "linked to case"
        };
        match &self.reason {
            Some(reason) => format!(
                "{what} {}: {}",
                self.case_reference.as_str(),
                reason.as_str()
            ),
            None => format!("{what} {}", self.case_reference.as_str()),
        }
    }
}

pub fn case_custody(request: pb::RecordCaseCustodyRequest) -> Result<CaseCustody, Violations> {
    let mut v = Violations::default();
    let custody_id = v.nest("", parse_id("custody_id", &request.custody_id));
    let evidence_id = v.nest("", parse_id("evidence_id", &request.evidence_id));
    let case_id = v.nest("", parse_id("case_id", &request.case_id));
    let case_reference = v.check(
        "case_reference",
        PersonOrOffice::parse(request.case_reference),
    );
    let kind = match pb::CaseCustodyAction::try_from(request.action) {
        Ok(pb::CaseCustodyAction::Linked) => Some(CustodyEventKind::LinkedToCase),
        Ok(pb::CaseCustodyAction::Unlinked) => Some(CustodyEventKind::UnlinkedFromCase),
        Ok(pb::CaseCustodyAction::Unspecified) => {
            v.add("action", "is required");
            None
        }
        Err(_) => {
            v.add(
                "action",
                format!("has no value numbered {}", request.action),
            );
            None
        }
    };
    let actor = v.check("actor", PersonOrOffice::parse(request.actor));
    let occurred_at = match request.occurred_time {
        Some(time) => v.check("occurred_time", parse_time(&time)),
        None => {
            v.add("occurred_time", "is required");
            None
        }
    };
    let reason = if request.reason.trim().is_empty() {
        if kind == Some(CustodyEventKind::UnlinkedFromCase) {
            v.add("reason", "is required to unlink");
        }
        None
    } else {
        v.check("reason", ChangeReason::parse(request.reason))
    };
    match (
        custody_id,
        evidence_id,
        case_id,
        case_reference,
        kind,
        actor,
        occurred_at,
    ) {
        (
            Some(custody_id),
            Some(evidence_id),
            Some(case_id),
            Some(case_reference),
            Some(kind),
            Some(actor),
            Some(occurred_at),
        ) if v.is_empty() => Ok(CaseCustody {
            custody_id,
            evidence_id,
            case_id,
            case_reference,
            kind,
            actor,
            occurred_at: occurred_at.trunc_subsecs(6),
            reason,
        }),
        _ => Err(v),
    }
}

impl EvidenceDesk {
    /// Records `custody` in the chain of its item, once: a repeat answers the event recorded
    /// the first time.
    pub async fn record_case_custody(
        &self,
        call: &CallContext,
        custody: CaseCustody,
    ) -> Result<pb::CustodyEvent, IntakeError> {
        match self.try_record_case_custody(call, &custody).await {
            // A concurrent delivery of the same notice won the race (PostgreSQL).
            Err(IntakeError::Database(error))
                if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                match custody_event::Entity::find_by_id(custody.custody_id)
                    .one(&self.db)
                    .await?
                {
                    Some(existing) => same_notice(existing, &custody),
                    None => Err(IntakeError::Database(error)),
                }
            }
            other => other,
        }
    }

    async fn try_record_case_custody(
        &self,
        call: &CallContext,
        custody: &CaseCustody,
    ) -> Result<pb::CustodyEvent, IntakeError> {
        let txn = begin_write(&self.db).await?;
        if let Some(existing) = custody_event::Entity::find_by_id(custody.custody_id)
            .one(&txn)
            .await?
        {
            return same_notice(existing, custody);
        }
        let item = records::find(&txn, custody.evidence_id).await?;
        let event = custody_event::Model {
            id: custody.custody_id,
            evidence_id: custody.evidence_id,
            kind: custody.kind.code().to_owned(),
            actor: custody.actor.as_str().to_owned(),
            occurred_at: custody.occurred_at,
            sha256: item.sha256,
            note: CustodyNote::parse(custody.note())
                .map(CustodyNote::into_inner)
                // A reference and a reason of at most 200 and 2 000 characters: a longer note
                // is cut rather than refused, the reason being kept whole in case management.
                .unwrap_or_else(|_| custody.note().chars().take(2_000).collect()),
            case_id: Some(custody.case_id),
        };
        custody_event::Entity::insert(custody_event::ActiveModel {
            id: Set(event.id),
            evidence_id: Set(event.evidence_id),
            kind: Set(event.kind.clone()),
            actor: Set(event.actor.clone()),
            occurred_at: Set(event.occurred_at),
            sha256: Set(event.sha256.clone()),
            note: Set(event.note.clone()),
            case_id: Set(event.case_id),
        })
        .exec_without_returning(&txn)
        .await?;
        let action = if custody.kind == CustodyEventKind::UnlinkedFromCase {
            "record evidence unlinked from case"
        } else {
            "record evidence linked to case"
        };
        journal::record(
            &txn,
            &AuditRecord::succeeded(
                call,
                action,
                vec![
                    custody.evidence_id.to_string(),
                    custody.case_id.to_string(),
                    custody.custody_id.to_string(),
                ],
            ),
            None,
        )
        .await?;
        txn.commit().await?;
        custody_message(event)
    }
}

/// The event `existing` answers a repeat of `custody`, if it is the same notice.
fn same_notice(
    existing: custody_event::Model,
    custody: &CaseCustody,
) -> Result<pb::CustodyEvent, IntakeError> {
    if existing.evidence_id == custody.evidence_id
        && existing.case_id == Some(custody.case_id)
        && existing.kind == custody.kind.code()
    {
        custody_message(existing)
    } else {
        Err(Violations::single(
            "custody_id",
            "names a custody event of another item, case or action",
        )
        .into())
    }
}
