//! Charges: a suspect of a case charged with one of the case's crime types, and its lifecycle.

use docket_domain::case::{CaseStatus, ChargeStatus, CrimeTypeCode, FiledDate, PersonRole};
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::paging::Page;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::timestamp;
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{IntoActiveModel, QueryOrder, QuerySelect};

use super::change::ensure_not_closed;
use super::content::{Move, read_codes, record_move};
use super::{CaseStore, etag_of, now};
use crate::entity::case_code::CodeList;
use crate::entity::{case, case_person, charge};
use crate::error::CaseError;

/// A valid `FileCharge` request.
#[derive(Debug, Clone)]
pub struct NewCharge {
    pub person_id: Uuid,
    pub crime_type: CrimeTypeCode,
    pub in_absentia: bool,
    pub filed_date: FiledDate,
}

impl CaseStore {
    /// Files a charge in case `case_id`; the first charge of an investigated case moves it to
    /// CHARGES_FILED. Returns the charge and the case's new etag.
    pub async fn file_charge(
        &self,
        case_id: Uuid,
        etag: Option<&str>,
        new: NewCharge,
        call: &CallContext,
    ) -> Result<(pb::Charge, String), CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        let row = self.guard(&txn, case_id, etag).await?;
        ensure_not_closed(&row)?;
        let status = CaseStatus::from_code(&row.status)?;
        if status == CaseStatus::Open {
            return Err(CaseError::Precondition(format!(
                "case {} is open; move it to under_investigation before filing charges",
                row.reference
            )));
        }
        let suspect = case_person::Entity::find_by_id((case_id, new.person_id))
            .one(&txn)
            .await?
            .ok_or(CaseError::PersonNotFound {
                case: case_id,
                person: new.person_id,
            })?;
        if suspect.role != PersonRole::Suspect.code() {
            return Err(CaseError::Precondition(format!(
                "person {} is a {} in this case; only suspects are charged",
                new.person_id, suspect.role
            )));
        }
        let qualified = read_codes(&txn, case_id, CodeList::Crime).await?;
        if !qualified.iter().any(|code| code == new.crime_type.as_str()) {
            return Err(CaseError::Precondition(format!(
                "case {} is not qualified with {}; qualify it first (QualifyCase)",
                row.reference, new.crime_type
            )));
        }
        let at = now();
        let filed = charge::Entity::insert(charge::ActiveModel {
            id: Set(Uuid::now_v7()),
            case_id: Set(case_id),
            person_id: Set(new.person_id),
            crime_type_code: Set(new.crime_type.as_str().to_owned()),
            in_absentia: Set(new.in_absentia),
            filed_date: Set(new.filed_date.to_text()),
            status: Set(ChargeStatus::Filed.code().to_owned()),
            filed_by: Set(call.subject().to_owned()),
            filed_at: Set(at),
            status_changed_at: Set(at),
        })
        .exec_with_returning(&txn)
        .await?;
        if status == CaseStatus::UnderInvestigation {
            let to = status.move_to(CaseStatus::ChargesFiled)?;
            case::Entity::update_many()
                .col_expr(case::Column::Status, Expr::value(to.code()))
                .filter(case::Column::Id.eq(case_id))
                .exec(&txn)
                .await?;
            let note = format!("charge {} filed", filed.id);
            record_move(
                &txn,
                case_id,
                Move {
                    from: Some(status),
                    to,
                    reason: None,
                    note: Some(&note),
                    merged_into: None,
                    by: call.subject(),
                    at,
                },
            )
            .await?;
        }
        self.record_change(
            &txn,
            case_id,
            &AuditRecord::succeeded(
                call,
                "file charge",
                vec![
                    case_id.to_string(),
                    filed.id.to_string(),
                    new.person_id.to_string(),
                ],
            ),
        )
        .await?;
        txn.commit().await?;
        self.committed();
        Ok((wire(filed)?, etag_of(case_id, row.version + 1)))
    }

    /// Moves charge `charge_id` of case `case_id` to `to`, if its lifecycle allows it.
    pub async fn update_charge_status(
        &self,
        case_id: Uuid,
        etag: Option<&str>,
        charge_id: Uuid,
        to: ChargeStatus,
        call: &CallContext,
    ) -> Result<(pb::Charge, String), CaseError> {
        let (_changing, txn) = self.begin_change().await?;
        let row = self.guard(&txn, case_id, etag).await?;
        ensure_not_closed(&row)?;
        let current = charge::Entity::find_by_id(charge_id)
            .filter(charge::Column::CaseId.eq(case_id))
            .one(&txn)
            .await?
            .ok_or(CaseError::ChargeNotFound {
                case: case_id,
                charge: charge_id,
            })?;
        let next = ChargeStatus::from_code(&current.status)?.move_to(to)?;
        let mut active = current.into_active_model();
        active.status = Set(next.code().to_owned());
        active.status_changed_at = Set(now());
        let updated = active.update(&txn).await?;
        self.record_change(
            &txn,
            case_id,
            &AuditRecord::succeeded(
                call,
                "update charge status",
                vec![case_id.to_string(), charge_id.to_string()],
            ),
        )
        .await?;
        txn.commit().await?;
        self.committed();
        Ok((wire(updated)?, etag_of(case_id, row.version + 1)))
    }

    /// One page of the charges of case `case_id`, in the order they were filed, and the next
    /// page's token.
    pub async fn charges(
        &self,
        case_id: Uuid,
        page: &Page,
    ) -> Result<(Vec<pb::Charge>, String), CaseError> {
        case::Entity::find_by_id(case_id)
            .one(&self.db)
            .await?
            .ok_or(CaseError::CaseNotFound(case_id))?;
        let mut select = charge::Entity::find().filter(charge::Column::CaseId.eq(case_id));
        if let Some(after) = page.after.as_deref().and_then(|p| Uuid::from_slice(p).ok()) {
            select = select.filter(charge::Column::Id.gt(after));
        }
        let mut rows = select
            .order_by_asc(charge::Column::Id)
            .limit(page.limit())
            .all(&self.db)
            .await?;
        let token = page.finish(&mut rows, |row| row.id.as_bytes().to_vec());
        let charges = rows.into_iter().map(wire).collect::<Result<_, _>>()?;
        Ok((charges, token))
    }
}

/// The charges of case `case_id` in the transaction or connection `conn`, oldest first.
pub(super) async fn charges_of<C: sea_orm::ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<Vec<pb::Charge>, CaseError> {
    charge::Entity::find()
        .filter(charge::Column::CaseId.eq(case_id))
        .order_by_asc(charge::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(wire)
        .collect()
}

fn wire(row: charge::Model) -> Result<pb::Charge, CaseError> {
    Ok(pb::Charge {
        id: row.id.to_string(),
        case_id: row.case_id.to_string(),
        person_id: row.person_id.to_string(),
        crime_type_code: row.crime_type_code,
        in_absentia: row.in_absentia,
        filed_date: row.filed_date,
        status: pb::ChargeStatus::from(ChargeStatus::from_code(&row.status)?).into(),
        filed_by: row.filed_by,
        status_changed_at: Some(timestamp(row.status_changed_at)),
    })
}
