//! Writing a case's fields and its lifecycle history; shared by opening and updating a case.

use chrono::{DateTime, Utc};
use docket_domain::UnknownCode;
use docket_domain::case::{CaseContent, CaseStatus, CloseReason};
use docket_domain::incident::{AgeBand, AgeGroup, Harm, Sex, VictimGroup, VictimStatus};
use docket_domain::party::PartyCode;
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryOrder};

use crate::entity::case_code::{self, CodeList};
use crate::entity::{case, status_change, victim_group};

/// What of a case's content lives beside its row: the victim groups and the lists of codes that
/// changed, to be written once the row is.
#[must_use]
#[derive(Debug, Default)]
pub(super) struct Parts {
    victims: Option<Vec<VictimGroup>>,
    codes: Vec<(CodeList, Vec<String>)>,
}

impl Parts {
    /// Writes the parts of case `case_id` that changed.
    pub(super) async fn write(self, txn: &DatabaseTransaction, case_id: Uuid) -> Result<(), DbErr> {
        if let Some(victims) = self.victims {
            write_victims(txn, case_id, &victims).await?;
        }
        for (list, codes) in self.codes {
            write_codes(txn, case_id, list, &codes).await?;
        }
        Ok(())
    }
}

/// Sets the columns of `changes` on `row`; returns the parts that change, which live in their
/// own tables.
pub(super) fn apply(row: &mut case::ActiveModel, changes: &[CaseContent]) -> Parts {
    let mut parts = Parts::default();
    for change in changes {
        match change {
            CaseContent::Title(title) => row.title = Set(title.as_str().to_owned()),
            CaseContent::Summary(summary) => {
                row.summary = Set(summary.as_ref().map(|s| s.as_str().to_owned()));
            }
            CaseContent::PartyCodes(codes) => parts.codes.push((
                CodeList::Party,
                codes.iter().map(|c| c.as_str().to_owned()).collect(),
            )),
            CaseContent::ViolationTypes(types) => parts.codes.push((
                CodeList::Violation,
                types.iter().map(|t| t.code().to_owned()).collect(),
            )),
            CaseContent::Victims(groups) => parts.victims = Some(groups.clone()),
            CaseContent::IncidentPeriod(period) => {
                row.period_start = Set(period.as_ref().map(|p| p.start().trunc_micros()));
                row.period_end = Set(period
                    .as_ref()
                    .and_then(|p| p.end())
                    .map(|t| t.trunc_micros()));
                row.period_precision =
                    Set(period.as_ref().map(|p| p.precision().code().to_owned()));
            }
            CaseContent::Location(location) => {
                let l = location.as_ref();
                row.place_name = Set(l.and_then(|l| l.place_name()).map(str::to_owned));
                row.admin_area = Set(l.and_then(|l| l.admin_area()).map(str::to_owned));
                row.country_code = Set(l.and_then(|l| l.country_code()).map(str::to_owned));
                row.latitude = Set(l.and_then(|l| l.coordinates()).map(|(lat, _)| lat));
                row.longitude = Set(l.and_then(|l| l.coordinates()).map(|(_, lon)| lon));
                row.location_precision = Set(l.map(|l| l.precision().code().to_owned()));
            }
            CaseContent::AssignedInvestigator(name) => {
                row.assigned_investigator = Set(name.as_ref().map(|n| n.as_str().to_owned()));
            }
            CaseContent::AssignedProsecutor(name) => {
                row.assigned_prosecutor = Set(name.as_ref().map(|n| n.as_str().to_owned()));
            }
        }
    }
    parts
}

/// Replaces list `list` of case `case_id` with `codes`, in their order.
pub(super) async fn write_codes<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    list: CodeList,
    codes: &[String],
) -> Result<(), DbErr> {
    case_code::Entity::delete_many()
        .filter(case_code::Column::CaseId.eq(case_id))
        .filter(case_code::Column::List.eq(list.code()))
        .exec(conn)
        .await?;
    if codes.is_empty() {
        return Ok(());
    }
    case_code::Entity::insert_many(case_code::rows(case_id, list, codes))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// List `list` of case `case_id`, in its order.
pub(super) async fn read_codes<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    list: CodeList,
) -> Result<Vec<String>, DbErr> {
    Ok(case_code::Entity::find()
        .filter(case_code::Column::CaseId.eq(case_id))
        .filter(case_code::Column::List.eq(list.code()))
        .order_by_asc(case_code::Column::Position)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.code)
        .collect())
}

/// Microsecond precision, as PostgreSQL keeps it.
trait TruncMicros {
    fn trunc_micros(self) -> Self;
}

impl TruncMicros for DateTime<Utc> {
    fn trunc_micros(self) -> Self {
        chrono::SubsecRound::trunc_subsecs(self, 6)
    }
}

/// Replaces the casualty figures of case `case_id`.
pub(super) async fn write_victims(
    txn: &DatabaseTransaction,
    case_id: Uuid,
    groups: &[VictimGroup],
) -> Result<(), DbErr> {
    victim_group::Entity::delete_many()
        .filter(victim_group::Column::CaseId.eq(case_id))
        .exec(txn)
        .await?;
    if groups.is_empty() {
        return Ok(());
    }
    let rows = groups
        .iter()
        .zip(0..)
        .map(|(g, position)| victim_group::ActiveModel {
            case_id: Set(case_id),
            position: Set(position),
            // At most 1 000 000, checked by the domain.
            count: Set(i32::try_from(g.count).unwrap_or(i32::MAX)),
            status: Set(g.status.code().to_owned()),
            harm: Set(g.harm.code().to_owned()),
            age_group: Set(g.age_group.code().to_owned()),
            sex: Set(g.sex.code().to_owned()),
            affiliation_party_code: Set(g.affiliation.as_ref().map(|p| p.as_str().to_owned())),
            age_band: Set(g.age_band.map(|b| b.code().to_owned())),
        });
    victim_group::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// The casualty figures of case `case_id`, in their order.
pub(super) async fn read_victims(
    txn: &DatabaseTransaction,
    case_id: Uuid,
) -> Result<Vec<VictimGroup>, crate::error::CaseError> {
    victim_group::Entity::find()
        .filter(victim_group::Column::CaseId.eq(case_id))
        .order_by_asc(victim_group::Column::Position)
        .all(txn)
        .await?
        .into_iter()
        .map(|g| {
            Ok(VictimGroup {
                // Written from a domain value, so never negative.
                count: u32::try_from(g.count).unwrap_or_default(),
                status: VictimStatus::from_code(&g.status)?,
                harm: Harm::from_code(&g.harm)?,
                age_group: AgeGroup::from_code(&g.age_group)?,
                sex: Sex::from_code(&g.sex)?,
                // Written from a domain value, so well formed; a code the deployment no longer
                // lists stays what it was.
                affiliation: g
                    .affiliation_party_code
                    .as_deref()
                    .and_then(|code| PartyCode::parse(code).ok()),
                age_band: g.age_band.as_deref().map(AgeBand::from_code).transpose()?,
            })
        })
        .collect::<Result<_, UnknownCode>>()
        .map_err(Into::into)
}

/// One move for the history.
#[derive(Debug, Clone)]
pub(super) struct Move<'a> {
    pub from: Option<CaseStatus>,
    pub to: CaseStatus,
    pub reason: Option<CloseReason>,
    pub note: Option<&'a str>,
    pub merged_into: Option<Uuid>,
    pub by: &'a str,
    pub at: DateTime<Utc>,
}

/// Appends a move to the history of case `case_id`. The case's version was bumped in the same
/// transaction, so no other writer appends to this history concurrently.
pub(super) async fn record_move(
    txn: &DatabaseTransaction,
    case_id: Uuid,
    change: Move<'_>,
) -> Result<(), DbErr> {
    let last = status_change::Entity::find()
        .filter(status_change::Column::CaseId.eq(case_id))
        .order_by_desc(status_change::Column::Sequence)
        .one(txn)
        .await?
        .map_or(0, |row| row.sequence);
    status_change::Entity::insert(status_change::ActiveModel {
        case_id: Set(case_id),
        sequence: Set(last + 1),
        from_status: Set(change.from.map(|s| s.code().to_owned())),
        to_status: Set(change.to.code().to_owned()),
        close_reason: Set(change.reason.map(|r| r.code().to_owned())),
        note: Set(change.note.map(str::to_owned)),
        merged_into_case_id: Set(change.merged_into),
        changed_by: Set(change.by.to_owned()),
        changed_at: Set(change.at),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
