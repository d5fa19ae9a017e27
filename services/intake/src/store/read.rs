//! Stored allegations back into wire messages, their repeated parts fetched per page, not per row.

use std::collections::HashMap;

use docket_domain::UnknownCode;
use docket_domain::allegation::{AllegationStatus, Channel};
use docket_domain::incident::{
    AgeBand, AgeGroup, Harm, LocationPrecision, Sex, TimePrecision, VictimStatus, ViolationType,
};
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::timestamp;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder};

use docket_platform::auth::CallContext;

use super::AllegationStore;
use crate::entity::{allegation, perpetrator, source_url, victim_group, violation_type};
use crate::error::IntakeError;

impl AllegationStore {
    /// One allegation by id, as the caller may see it.
    pub async fn get(&self, id: Uuid, call: &CallContext) -> Result<pb::Allegation, IntakeError> {
        let mut message = self.load_one(&self.db, id).await?;
        self.disclose(call, std::slice::from_mut(&mut message), true)
            .await?;
        Ok(message)
    }

    pub(super) async fn load_one<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: Uuid,
    ) -> Result<pb::Allegation, IntakeError> {
        let row = allegation::Entity::find_by_id(id)
            .one(conn)
            .await?
            .ok_or(IntakeError::AllegationNotFound(id))?;
        let mut messages = load_many(conn, vec![row]).await?;
        messages.pop().ok_or(IntakeError::AllegationNotFound(id))
    }
}

/// Allegations as stored: their rows and their repeated parts (each part in the order of its
/// position within its allegation).
#[derive(Debug, Default)]
pub(super) struct Stored {
    pub rows: Vec<allegation::Model>,
    pub violation_types: Vec<violation_type::Model>,
    pub perpetrators: Vec<perpetrator::Model>,
    pub victims: Vec<victim_group::Model>,
    pub source_urls: Vec<source_url::Model>,
}

/// The wire messages of `rows`, in the same order.
pub(crate) async fn load_many<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<allegation::Model>,
) -> Result<Vec<pb::Allegation>, IntakeError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let stored = Stored {
        violation_types: violation_type::Entity::find()
            .filter(violation_type::Column::AllegationId.is_in(ids.clone()))
            .order_by_asc(violation_type::Column::Position)
            .all(conn)
            .await?,
        perpetrators: perpetrator::Entity::find()
            .filter(perpetrator::Column::AllegationId.is_in(ids.clone()))
            .order_by_asc(perpetrator::Column::Position)
            .all(conn)
            .await?,
        victims: victim_group::Entity::find()
            .filter(victim_group::Column::AllegationId.is_in(ids.clone()))
            .order_by_asc(victim_group::Column::Position)
            .all(conn)
            .await?,
        source_urls: source_url::Entity::find()
            .filter(source_url::Column::AllegationId.is_in(ids))
            .order_by_asc(source_url::Column::Position)
            .all(conn)
            .await?,
        rows,
    };
    Ok(stored.into_messages()?)
}

impl Stored {
    /// The wire message of each row, in the order of the rows. Reads and the answers to new
    /// submissions both come through here, so a submission is answered exactly as it will
    /// read back.
    pub(super) fn into_messages(self) -> Result<Vec<pb::Allegation>, UnknownCode> {
        let mut types = group(self.violation_types, |r| r.allegation_id);
        let mut perpetrators = group(self.perpetrators, |r| r.allegation_id);
        let mut victims = group(self.victims, |r| r.allegation_id);
        let mut urls = group(self.source_urls, |r| r.allegation_id);
        self.rows
            .into_iter()
            .map(|row| {
                let id = row.id;
                let mut message = scalar_fields(row)?;
                message.violation_types = types
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| {
                        ViolationType::from_code(&r.violation_type)
                            .map(wire::<common::ViolationType, _>)
                    })
                    .collect::<Result<_, _>>()?;
                message.alleged_perpetrators = perpetrators
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| common::AllegedPerpetrator {
                        party_code: r.party_code.unwrap_or_default(),
                        unit: r.unit.unwrap_or_default(),
                        description: r.description.unwrap_or_default(),
                    })
                    .collect();
                message.victims = victims
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(victim_group_message)
                    .collect::<Result<_, _>>()?;
                message.source_urls = urls
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| r.url)
                    .collect();
                Ok(message)
            })
            .collect()
    }
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut groups: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        groups.entry(key(&row)).or_default().push(row);
    }
    groups
}

/// The raw number of the wire enum `W` for the domain value `value`.
fn wire<W, D>(value: D) -> i32
where
    W: From<D> + Into<i32>,
{
    W::from(value).into()
}

fn scalar_fields(row: allegation::Model) -> Result<pb::Allegation, UnknownCode> {
    let incident_period = match (row.period_start, row.period_precision) {
        (Some(start), Some(precision)) => Some(common::IncidentPeriod {
            start_time: Some(timestamp(start)),
            end_time: row.period_end.map(timestamp),
            precision: wire::<common::TimePrecision, _>(TimePrecision::from_code(&precision)?),
        }),
        _ => None,
    };
    let location = match row.location_precision {
        Some(precision) => Some(common::Location {
            place_name: row.place_name.unwrap_or_default(),
            admin_area: row.admin_area.unwrap_or_default(),
            country_code: row.country_code.unwrap_or_default(),
            latitude: row.latitude,
            longitude: row.longitude,
            precision: wire::<common::LocationPrecision, _>(LocationPrecision::from_code(
                &precision,
            )?),
        }),
        None => None,
    };
    Ok(pb::Allegation {
        id: row.id.to_string(),
        reference: row.reference,
        status: wire::<pb::AllegationStatus, _>(AllegationStatus::from_code(&row.status)?),
        received_at: Some(timestamp(row.received_at)),
        channel: wire::<pb::Channel, _>(Channel::from_code(&row.channel)?),
        // Still sealed here; `disclose` opens or redacts them for the caller.
        source: Some(pb::Source {
            anonymous: row.source_anonymous,
            name: row.source_name.unwrap_or_default(),
            contact: row.source_contact.unwrap_or_default(),
            redacted: false,
        }),
        narrative: row.narrative,
        language: row.language,
        incident_period,
        location,
        violation_types: Vec::new(),
        alleged_perpetrators: Vec::new(),
        victims: Vec::new(),
        source_urls: Vec::new(),
        reviewed_by: row.reviewed_by.unwrap_or_default(),
        rejection_reason: row.rejection_reason.unwrap_or_default(),
        duplicate_of_id: row
            .duplicate_of_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        status_changed_at: Some(timestamp(row.status_changed_at)),
        message_for_source: row.message_for_source.unwrap_or_default(),
        etag: docket_platform::etag::of(row.id, row.version),
        joined_case_id: row
            .joined_case_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
    })
}

fn victim_group_message(row: victim_group::Model) -> Result<common::VictimGroup, UnknownCode> {
    Ok(common::VictimGroup {
        count: row.count,
        status: wire::<common::VictimStatus, _>(VictimStatus::from_code(&row.status)?),
        harm: wire::<common::Harm, _>(Harm::from_code(&row.harm)?),
        age_group: wire::<common::AgeGroup, _>(AgeGroup::from_code(&row.age_group)?),
        sex: wire::<common::Sex, _>(Sex::from_code(&row.sex)?),
        affiliation_party_code: row.affiliation_party_code.unwrap_or_default(),
        age_band: match row.age_band {
            Some(band) => wire::<common::AgeBand, _>(AgeBand::from_code(&band)?),
            None => 0,
        },
    })
}
