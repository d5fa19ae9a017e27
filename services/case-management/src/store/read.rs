//! Stored cases back into wire messages, their parts fetched per page, not per row.

use std::collections::HashMap;

use docket_domain::UnknownCode;
use docket_domain::case::{CaseStatus, CloseReason};
use docket_domain::incident::{
    AgeBand, AgeGroup, Harm, LocationPrecision, Sex, TimePrecision, VictimStatus, ViolationType,
};
use docket_platform::paging::Page;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use docket_proto::timestamp;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect};

use super::{CaseStore, etag_of};
use crate::entity::case_code::{self, CodeList};
use crate::entity::{case, case_allegation, status_change, victim_group};
use crate::error::CaseError;

/// A domain enum as the raw value of its wire enum.
fn wire<W: From<D> + Into<i32>, D>(value: D) -> i32 {
    W::from(value).into()
}

impl CaseStore {
    /// One case by id.
    pub async fn get(&self, id: Uuid) -> Result<pb::Case, CaseError> {
        load_one(&self.db, id).await
    }

    /// The cases of `ids` that exist, in no particular order.
    pub async fn get_many(&self, ids: Vec<Uuid>) -> Result<Vec<pb::Case>, CaseError> {
        let mut cases = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let rows = case::Entity::find()
                .filter(case::Column::Id.is_in(chunk.to_vec()))
                .all(&self.db)
                .await?;
            cases.extend(load_many(&self.db, rows).await?);
        }
        Ok(cases)
    }

    /// One page of the lifecycle history of case `id`, oldest first, and the next page's token.
    pub async fn history(
        &self,
        id: Uuid,
        page: &Page,
    ) -> Result<(Vec<pb::StatusChange>, String), CaseError> {
        case::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(CaseError::CaseNotFound(id))?;
        let mut select = status_change::Entity::find().filter(status_change::Column::CaseId.eq(id));
        if let Some(after) = page
            .after
            .as_deref()
            .and_then(|p| <[u8; 4]>::try_from(p).ok())
        {
            select = select.filter(status_change::Column::Sequence.gt(i32::from_be_bytes(after)));
        }
        let mut rows = select
            .order_by_asc(status_change::Column::Sequence)
            .limit(page.limit())
            .all(&self.db)
            .await?;
        let token = page.finish(&mut rows, |row| row.sequence.to_be_bytes().to_vec());
        let changes = rows
            .into_iter()
            .map(|row| {
                Ok(pb::StatusChange {
                    from_status: match row.from_status {
                        Some(code) => wire::<pb::CaseStatus, _>(CaseStatus::from_code(&code)?),
                        None => 0,
                    },
                    to_status: wire::<pb::CaseStatus, _>(CaseStatus::from_code(&row.to_status)?),
                    close_reason: match row.close_reason {
                        Some(code) => wire::<pb::CloseReason, _>(CloseReason::from_code(&code)?),
                        None => 0,
                    },
                    note: row.note.unwrap_or_default(),
                    changed_by: row.changed_by,
                    changed_at: Some(timestamp(row.changed_at)),
                    merged_into_case_id: row
                        .merged_into_case_id
                        .map(|id| id.to_string())
                        .unwrap_or_default(),
                })
            })
            .collect::<Result<_, UnknownCode>>()
            .map_err(CaseError::from)?;
        Ok((changes, token))
    }
}

pub(super) async fn load_one<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<pb::Case, CaseError> {
    let row = case::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(CaseError::CaseNotFound(id))?;
    let mut cases = load_many(conn, vec![row]).await?;
    cases.pop().ok_or(CaseError::CaseNotFound(id))
}

/// The wire messages of `rows`, in the same order.
pub(super) async fn load_many<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<case::Model>,
) -> Result<Vec<pb::Case>, CaseError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut allegations: HashMap<Uuid, Vec<String>> = HashMap::new();
    for link in case_allegation::Entity::find()
        .filter(case_allegation::Column::CaseId.is_in(ids.clone()))
        .order_by_asc(case_allegation::Column::LinkedAt)
        .order_by_asc(case_allegation::Column::AllegationId)
        .all(conn)
        .await?
    {
        allegations
            .entry(link.case_id)
            .or_default()
            .push(link.allegation_id.to_string());
    }
    let mut victims: HashMap<Uuid, Vec<common::VictimGroup>> = HashMap::new();
    for g in victim_group::Entity::find()
        .filter(victim_group::Column::CaseId.is_in(ids.clone()))
        .order_by_asc(victim_group::Column::Position)
        .all(conn)
        .await?
    {
        let message = common::VictimGroup {
            count: g.count,
            status: wire::<common::VictimStatus, _>(VictimStatus::from_code(&g.status)?),
            harm: wire::<common::Harm, _>(Harm::from_code(&g.harm)?),
            age_group: wire::<common::AgeGroup, _>(AgeGroup::from_code(&g.age_group)?),
            sex: wire::<common::Sex, _>(Sex::from_code(&g.sex)?),
            affiliation_party_code: g.affiliation_party_code.unwrap_or_default(),
            age_band: match g.age_band {
                Some(band) => wire::<common::AgeBand, _>(AgeBand::from_code(&band)?),
                None => 0,
            },
        };
        victims.entry(g.case_id).or_default().push(message);
    }
    let mut codes: HashMap<(Uuid, CodeList), Vec<String>> = HashMap::new();
    for code in case_code::Entity::find()
        .filter(case_code::Column::CaseId.is_in(ids))
        .order_by_asc(case_code::Column::Position)
        .all(conn)
        .await?
    {
        let list = CodeList::from_code(&code.list)?;
        codes
            .entry((code.case_id, list))
            .or_default()
            .push(code.code);
    }
    rows.into_iter()
        .map(|row| {
            let id = row.id;
            let mut message = scalar_fields(row)?;
            message.allegation_ids = allegations.remove(&id).unwrap_or_default();
            message.victims = victims.remove(&id).unwrap_or_default();
            let mut list = |list| codes.remove(&(id, list)).unwrap_or_default();
            message.party_codes = list(CodeList::Party);
            message.violation_types = list(CodeList::Violation)
                .iter()
                .map(|code| ViolationType::from_code(code).map(wire::<common::ViolationType, _>))
                .collect::<Result<_, _>>()?;
            message.crime_type_codes = list(CodeList::Crime);
            Ok(message)
        })
        .collect()
}

fn scalar_fields(row: case::Model) -> Result<pb::Case, CaseError> {
    let incident_period = match (row.period_start, row.period_precision.as_deref()) {
        (Some(start), Some(precision)) => Some(common::IncidentPeriod {
            start_time: Some(timestamp(start)),
            end_time: row.period_end.map(timestamp),
            precision: wire::<common::TimePrecision, _>(TimePrecision::from_code(precision)?),
        }),
        _ => None,
    };
    let location = match row.location_precision.as_deref() {
        Some(precision) => Some(common::Location {
            place_name: row.place_name.unwrap_or_default(),
            admin_area: row.admin_area.unwrap_or_default(),
            country_code: row.country_code.unwrap_or_default(),
            latitude: row.latitude,
            longitude: row.longitude,
            precision: wire::<common::LocationPrecision, _>(LocationPrecision::from_code(
                precision,
            )?),
        }),
        None => None,
    };
    Ok(pb::Case {
        id: row.id.to_string(),
        reference: row.reference,
        status: wire::<pb::CaseStatus, _>(CaseStatus::from_code(&row.status)?),
        etag: etag_of(row.id, row.version),
        title: row.title,
        summary: row.summary.unwrap_or_default(),
        allegation_ids: Vec::new(),
        party_codes: Vec::new(),
        violation_types: Vec::new(),
        crime_type_codes: Vec::new(),
        victims: Vec::new(),
        incident_period,
        location,
        assigned_investigator: row.assigned_investigator.unwrap_or_default(),
        assigned_prosecutor: row.assigned_prosecutor.unwrap_or_default(),
        opened_at: Some(timestamp(row.opened_at)),
        updated_at: Some(timestamp(row.updated_at)),
        close_reason: match row.close_reason {
            Some(code) => wire::<pb::CloseReason, _>(CloseReason::from_code(&code)?),
            None => 0,
        },
        merged_into_case_id: row
            .merged_into_case_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
    })
}
