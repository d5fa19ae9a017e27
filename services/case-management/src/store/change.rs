//! Changing a case: its fields, its status, its legal qualification. Each takes the case's etag.

use docket_domain::case::{
    CaseContent, CaseStatus, ChargeStatus, CrimeTypeCode, Qualification, Transition,
};
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_proto::docket::cases::v1 as pb;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{DatabaseTransaction, IntoActiveModel, QueryOrder, QuerySelect};

use super::content::{Move, apply, read_codes, record_move, write_codes};
use super::read::load_one;
use super::{CaseStore, now};
use crate::entity::case_code::CodeList;
use crate::entity::{case, charge};
use crate::error::CaseError;

/// A change to a case itself.
#[derive(Debug, Clone)]
pub enum CaseChange {
    /// New values of the fields named in the update mask.
    Update(Vec<CaseContent>),
    Transition(Transition),
    Qualify(Qualification),
}

impl CaseChange {
    fn audit_action(&self) -> &'static str {
        match self {
            CaseChange::Update(_) => "update case",
            CaseChange::Transition(Transition::Close { .. }) => "close case",
            CaseChange::Transition(Transition::Advance { .. }) => "transition case",
            CaseChange::Qualify(_) => "qualify case",
        }
    }
}

/// Refuses any change to a closed case: its record is final.
pub(super) fn ensure_not_closed(row: &case::Model) -> Result<(), CaseError> {
    if row.status == CaseStatus::Closed.code() {
        Err(CaseError::Precondition(format!(
            "case {} is closed; a closed case does not change",
            row.reference
        )))
    } else {
        Ok(())
    }
}

impl CaseStore {
    /// Applies `change` to case `id` if `etag` is current.
    pub async fn change(
        &self,
        id: Uuid,
        etag: &str,
        change: CaseChange,
        call: &CallContext,
    ) -> Result<pb::Case, CaseError> {
        self.change_because(id, etag, change, None, call).await
    }

    /// [`CaseStore::change`] with the caller's reason for the case's history; a transition's
    /// own note is its reason otherwise.
    pub async fn change_because(
        &self,
        id: Uuid,
        etag: &str,
        change: CaseChange,
        reason: Option<&str>,
        call: &CallContext,
    ) -> Result<pb::Case, CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        if let CaseChange::Transition(Transition::Close {
            merged_into: Some(into),
            ..
        }) = &change
        {
            lock_in_order(&txn, &[id, *into]).await?;
        }
        let row = self.guard(&txn, id, Some(etag)).await?;
        let mut targets = vec![id.to_string()];
        match &change {
            CaseChange::Update(content) => {
                ensure_not_closed(&row)?;
                let mut active = row.clone().into_active_model();
                let parts = apply(&mut active, content);
                active.update(&txn).await?;
                parts.write(&txn, id).await?;
            }
            CaseChange::Transition(transition) => {
                if let Some(into) = transition_case(&txn, &row, transition, call).await? {
                    targets.push(into.to_string());
                }
            }
            CaseChange::Qualify(qualification) => {
                ensure_not_closed(&row)?;
                qualify(&txn, &row, qualification).await?;
            }
        }
        let audit = AuditRecord::succeeded(call, change.audit_action(), targets);
        let reason = match (&change, reason) {
            (_, Some(reason)) => Some(reason),
            (CaseChange::Transition(transition), None) => transition.note().map(|n| n.as_str()),
            (CaseChange::Update(_) | CaseChange::Qualify(_), None) => None,
        };
        self.record_change_because(&txn, id, &audit, reason).await?;
        let case = load_one(&txn, id).await?;
        txn.commit().await?;
        self.committed();
        Ok(case)
    }
}

/// Moves `row` as `transition` asks; returns the case it was merged into, if any.
async fn transition_case(
    txn: &DatabaseTransaction,
    row: &case::Model,
    transition: &Transition,
    call: &CallContext,
) -> Result<Option<Uuid>, CaseError> {
    let from = CaseStatus::from_code(&row.status)?;
    let to = from.move_to(transition.target())?;
    let (reason, merged_into) = match transition {
        Transition::Close {
            reason,
            merged_into,
            ..
        } => (Some(*reason), *merged_into),
        Transition::Advance { .. } => (None, None),
    };
    if let Some(into) = merged_into {
        ensure_mergeable_into(txn, into).await?;
    }
    let at = now();
    case::Entity::update_many()
        .col_expr(case::Column::Status, Expr::value(to.code()))
        .col_expr(
            case::Column::CloseReason,
            Expr::value(reason.map(|r| r.code().to_owned())),
        )
        .col_expr(case::Column::MergedIntoCaseId, Expr::value(merged_into))
        .filter(case::Column::Id.eq(row.id))
        .exec(txn)
        .await?;
    record_move(
        txn,
        row.id,
        Move {
            from: Some(from),
            to,
            reason,
            note: transition.note().map(|n| n.as_str()),
            merged_into,
            by: call.subject(),
            at,
        },
    )
    .await?;
    Ok(merged_into)
}

/// Locks the rows of cases `ids` until the transaction ends, in the order of their ids.
///
/// A merge reads its target and then closes its source; on PostgreSQL, under READ COMMITTED,
/// two merges in opposite directions (A into B, B into A) would each read the other still open
/// and both commit, leaving two closed cases pointing at each other. Locking both rows makes
/// the second wait for the first and then read its outcome; taking them in one order (ids
/// ascending, in one statement) keeps two such merges from deadlocking. SQLite has no row locks
/// and needs none: the IMMEDIATE transaction already holds its one write lock.
async fn lock_in_order(txn: &DatabaseTransaction, ids: &[Uuid]) -> Result<(), DbErr> {
    case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .filter(case::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(case::Column::Id)
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .all(txn)
        .await?;
    Ok(())
}

/// Refuses a merge into case `into` unless it is open. Merges only ever go into open cases, and
/// the case merged is closed by the merge and never changes again: so no chain of merges can
/// come back to a case already in it. A merge into a case that was itself merged is refused,
/// not redirected: the caller chose that case, and the one it went into may be another matter
/// entirely; the refusal names it so the caller can decide.
async fn ensure_mergeable_into(txn: &DatabaseTransaction, into: Uuid) -> Result<(), CaseError> {
    let target = case::Entity::find_by_id(into)
        .one(txn)
        .await?
        .ok_or(CaseError::CaseNotFound(into))?;
    if target.status != CaseStatus::Closed.code() {
        return Ok(());
    }
    let successor = match target.merged_into_case_id {
        Some(successor) => case::Entity::find_by_id(successor).one(txn).await?,
        None => None,
    };
    Err(CaseError::Precondition(match successor {
        Some(successor) => format!(
            "case {} was merged into {}; merge into that case instead",
            target.reference, successor.reference
        ),
        None => format!(
            "case {} is closed; merge into a case that is not",
            target.reference
        ),
    }))
}

/// Applies a change of qualification; a crime type a live charge uses cannot be removed.
async fn qualify(
    txn: &DatabaseTransaction,
    row: &case::Model,
    qualification: &Qualification,
) -> Result<(), CaseError> {
    let removed: Vec<&str> = qualification.removed().map(CrimeTypeCode::as_str).collect();
    if !removed.is_empty() {
        let dead: Vec<&str> = [ChargeStatus::Withdrawn, ChargeStatus::Acquitted]
            .iter()
            .map(|s| s.code())
            .collect();
        let charged = charge::Entity::find()
            .filter(charge::Column::CaseId.eq(row.id))
            .filter(charge::Column::CrimeTypeCode.is_in(removed))
            .filter(charge::Column::Status.is_not_in(dead))
            .one(txn)
            .await?;
        if let Some(charged) = charged {
            return Err(CaseError::Precondition(format!(
                "{} cannot be removed: charge {} is filed for it; withdraw the charge first",
                charged.crime_type_code, charged.id
            )));
        }
    }
    let current: Vec<CrimeTypeCode> = read_codes(txn, row.id, CodeList::Crime)
        .await?
        .iter()
        .filter_map(|code| CrimeTypeCode::parse(code).ok())
        .collect();
    let next = qualification.apply(&current);
    let next: Vec<String> = next.iter().map(|c| c.as_str().to_owned()).collect();
    write_codes(txn, row.id, CodeList::Crime, &next).await?;
    Ok(())
}
