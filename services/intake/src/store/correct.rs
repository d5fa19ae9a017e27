//! Correcting an allegation still in triage. The fields named in the update mask take their new
//! values over the stored ones, and the allegation so corrected must be valid exactly as a
//! submission is (the same parser decides); every field that changed goes to its history, a
//! source's name and contact sealed there as they are in the allegation.

use chrono::{DateTime, Utc};
use docket_domain::Violations;
use docket_domain::allegation::{AllegationStatus, Source, check_correctable};
use docket_domain::history::ChangeReason;
use docket_domain::party::KnownParties;
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::{begin_write, insert_models};
use docket_platform::history::Change;
use docket_platform::journal;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::parse_new_allegation;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveModelTrait, DatabaseTransaction};

use super::AllegationStore;
use super::disclose::context;
use super::history;
use super::read::{Stored, load_many};
use super::submit::{SealedSource, set_content};
use crate::entity::{allegation, perpetrator, source_url, victim_group, violation_type};
use crate::error::IntakeError;

/// A field an update mask may name, by its path in the `Allegation` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrectedField {
    Channel,
    Source,
    SourceName,
    SourceContact,
    Narrative,
    Language,
    IncidentPeriod,
    Location,
    ViolationTypes,
    AllegedPerpetrators,
    Victims,
    SourceUrls,
}

impl CorrectedField {
    pub const ALL: &[CorrectedField] = &[
        CorrectedField::Channel,
        CorrectedField::Source,
        CorrectedField::SourceName,
        CorrectedField::SourceContact,
        CorrectedField::Narrative,
        CorrectedField::Language,
        CorrectedField::IncidentPeriod,
        CorrectedField::Location,
        CorrectedField::ViolationTypes,
        CorrectedField::AllegedPerpetrators,
        CorrectedField::Victims,
        CorrectedField::SourceUrls,
    ];

    pub fn path(self) -> &'static str {
        match self {
            CorrectedField::Channel => "channel",
            CorrectedField::Source => "source",
            CorrectedField::SourceName => "source.name",
            CorrectedField::SourceContact => "source.contact",
            CorrectedField::Narrative => "narrative",
            CorrectedField::Language => "language",
            CorrectedField::IncidentPeriod => "incident_period",
            CorrectedField::Location => "location",
            CorrectedField::ViolationTypes => "violation_types",
            CorrectedField::AllegedPerpetrators => "alleged_perpetrators",
            CorrectedField::Victims => "victims",
            CorrectedField::SourceUrls => "source_urls",
        }
    }

    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.path() == path)
    }

    /// True when the two name some of the same values (`source` holds `source.name`).
    pub fn overlaps(self, other: Self) -> bool {
        use CorrectedField::{Source, SourceContact, SourceName};
        self == other
            || matches!(
                (self, other),
                (Source, SourceName | SourceContact) | (SourceName | SourceContact, Source)
            )
    }
}

/// A valid `UpdateAllegation` request. The new values are checked against the stored allegation
/// they complete, in [`AllegationStore::correct`].
#[derive(Debug, Clone)]
pub struct Correction {
    pub id: Uuid,
    pub etag: String,
    pub fields: Vec<CorrectedField>,
    pub allegation: pb::Allegation,
    pub reason: ChangeReason,
}

/// Sets the values of `fields` of `from` on `to`.
fn overlay(to: &mut pb::Allegation, from: pb::Allegation, fields: &[CorrectedField]) {
    let source = from.source.unwrap_or_default();
    for field in fields {
        match field {
            CorrectedField::Channel => to.channel = from.channel,
            CorrectedField::Source => to.source = Some(source.clone()),
            CorrectedField::SourceName => {
                to.source.get_or_insert_default().name = source.name.clone()
            }
            CorrectedField::SourceContact => {
                to.source.get_or_insert_default().contact = source.contact.clone();
            }
            CorrectedField::Narrative => to.narrative.clone_from(&from.narrative),
            CorrectedField::Language => to.language.clone_from(&from.language),
            CorrectedField::IncidentPeriod => to.incident_period = from.incident_period,
            CorrectedField::Location => to.location.clone_from(&from.location),
            CorrectedField::ViolationTypes => to.violation_types.clone_from(&from.violation_types),
            CorrectedField::AllegedPerpetrators => {
                to.alleged_perpetrators
                    .clone_from(&from.alleged_perpetrators);
            }
            CorrectedField::Victims => to.victims.clone_from(&from.victims),
            CorrectedField::SourceUrls => to.source_urls.clone_from(&from.source_urls),
        }
    }
}

impl AllegationStore {
    /// Applies `correction` to an allegation still in triage; returns it as the caller may see
    /// it. A correction that changes nothing writes nothing.
    pub async fn correct(
        &self,
        correction: Correction,
        parties: &KnownParties,
        now: DateTime<Utc>,
        call: &CallContext,
    ) -> Result<pb::Allegation, IntakeError> {
        let id = correction.id;
        let txn = begin_write(&self.db).await?;
        let current = allegation::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(IntakeError::AllegationNotFound(id))?;
        let before = load_many(&txn, vec![current.clone()])
            .await?
            .pop()
            .ok_or(IntakeError::AllegationNotFound(id))?;
        let (name, contact) = self.opened_source(&before)?;

        // The allegation as it would be, checked as a submission: bad input is refused first.
        let mut corrected = before.clone();
        if let Some(source) = corrected.source.as_mut() {
            source.name.clone_from(&name);
            source.contact.clone_from(&contact);
        }
        overlay(&mut corrected, correction.allegation, &correction.fields);
        let mut v = Violations::default();
        let anonymous = corrected.source.as_ref().is_some_and(|s| s.anonymous);
        if anonymous != current.source_anonymous {
            v.add(
                "allegation.source.anonymous",
                "cannot be corrected: an anonymous source holds a receipt, an identified one \
                 does not; register a new allegation instead",
            );
        }
        let new = match parse_new_allegation("allegation", corrected, now) {
            Ok(new) => v.nest("allegation", new.check_parties(parties).map(|()| new)),
            Err(violations) => {
                v.absorb("", violations);
                None
            }
        };
        let new = match new {
            Some(new) if v.is_empty() => new,
            _ => return Err(v.into()),
        };
        check_correctable(AllegationStatus::from_code(&current.status)?)?;
        if correction.etag != docket_platform::etag::of(id, current.version) {
            return Err(IntakeError::StaleEtag(id));
        }

        let sealed = self.resealed(id, &current, new.source(), (&name, &contact))?;
        let mut row = current.clone();
        set_content(&mut row, &new);
        row.source_name = sealed.name;
        row.source_contact = sealed.contact;
        row.version = current.version + 1;
        let correctable: Vec<&str> = [AllegationStatus::Received, AllegationStatus::UnderReview]
            .iter()
            .map(|s| s.code())
            .collect();
        // The version condition makes the correction atomic on PostgreSQL too: of two changes
        // made from the same reading, one finds the allegation changed and is told so.
        let written = allegation::Entity::update_many()
            .set(allegation::ActiveModel::from(row).reset_all())
            .filter(allegation::Column::Id.eq(id))
            .filter(allegation::Column::Version.eq(current.version))
            .filter(allegation::Column::Status.is_in(correctable))
            .exec(&txn)
            .await?;
        if written.rows_affected == 0 {
            return Err(IntakeError::StaleEtag(id));
        }
        replace_parts(&txn, id, &new).await?;
        let mut after = self.load_one(&txn, id).await?;
        if history::fields(&after) == history::fields(&before) {
            // Nothing to correct: the transaction is dropped, and with it the new version.
            drop(txn);
            let mut unchanged = before;
            self.disclose(call, std::slice::from_mut(&mut unchanged), true)
                .await?;
            return Ok(unchanged);
        }
        let change = Change {
            action: "correct allegation",
            by: call.subject(),
            reason: Some(correction.reason.as_str()),
        };
        history::record(&txn, id, current.version + 1, change, &before, &after).await?;
        let audit = AuditRecord::succeeded(call, change.action, vec![id.to_string()]);
        journal::record(&txn, &audit, Some(&corrected_event(&after))).await?;
        txn.commit().await?;
        self.events.committed();
        self.disclose(call, std::slice::from_mut(&mut after), false)
            .await?;
        Ok(after)
    }

    /// The source's name and contact of a stored allegation, opened (empty when anonymous).
    fn opened_source(&self, stored: &pb::Allegation) -> Result<(String, String), IntakeError> {
        let Some(source) = stored.source.as_ref().filter(|s| !s.anonymous) else {
            return Ok((String::new(), String::new()));
        };
        Ok((
            self.open(&source.name, &context(&stored.id, "source_name"))?,
            self.open(&source.contact, &context(&stored.id, "source_contact"))?,
        ))
    }

    /// The sealed name and contact of the corrected `source`. A value that did not change keeps
    /// its sealed form, so that the history records only what changed.
    fn resealed(
        &self,
        id: Uuid,
        current: &allegation::Model,
        source: &Source,
        (name, contact): (&str, &str),
    ) -> Result<SealedSource, IntakeError> {
        let mut sealed = self.seal_source(id, source)?;
        if let Source::Identified {
            name: new_name,
            contact: new_contact,
        } = source
        {
            if new_name.as_str() == name {
                sealed.name.clone_from(&current.source_name);
            }
            if new_contact.as_ref().map(|c| c.as_str()) == Some(contact).filter(|c| !c.is_empty()) {
                sealed.contact.clone_from(&current.source_contact);
            }
        }
        Ok(sealed)
    }
}

/// Replaces the repeated parts of allegation `id` with those of `new`.
async fn replace_parts(
    txn: &DatabaseTransaction,
    id: Uuid,
    new: &docket_domain::allegation::NewAllegation,
) -> Result<(), DbErr> {
    violation_type::Entity::delete_many()
        .filter(violation_type::Column::AllegationId.eq(id))
        .exec(txn)
        .await?;
    perpetrator::Entity::delete_many()
        .filter(perpetrator::Column::AllegationId.eq(id))
        .exec(txn)
        .await?;
    victim_group::Entity::delete_many()
        .filter(victim_group::Column::AllegationId.eq(id))
        .exec(txn)
        .await?;
    source_url::Entity::delete_many()
        .filter(source_url::Column::AllegationId.eq(id))
        .exec(txn)
        .await?;
    let mut parts = Stored::default();
    parts.add_parts(id, new);
    insert_models(txn, &parts.violation_types).await?;
    insert_models(txn, &parts.perpetrators).await?;
    insert_models(txn, &parts.victims).await?;
    insert_models(txn, &parts.source_urls).await
}

/// What other services learn of a correction: the allegation as it now is, without its source
/// or narrative, in the form it was recorded in.
fn corrected_event(after: &pb::Allegation) -> ev::EventPayload {
    ev::EventPayload {
        kind: Some(ev::event_payload::Kind::AllegationCorrected(
            ev::AllegationCorrected {
                allegation: Some(recorded(after)),
            },
        )),
    }
}

/// An allegation as stored, in the form intake records new allegations in for others.
fn recorded(message: &pb::Allegation) -> ev::AllegationRecorded {
    let mut party_codes: Vec<String> = message
        .alleged_perpetrators
        .iter()
        .map(|p| p.party_code.clone())
        .filter(|code| !code.is_empty())
        .collect();
    party_codes.sort();
    party_codes.dedup();
    ev::AllegationRecorded {
        allegation_id: message.id.clone(),
        reference: message.reference.clone(),
        received_time: message.received_at,
        status: message.status().as_str_name().to_owned(),
        violation_types: message.violation_types.clone(),
        party_codes,
        victims: message.victims.clone(),
        incident_start_time: message.incident_period.and_then(|p| p.start_time),
        place_name: message
            .location
            .as_ref()
            .map(|l| l.place_name.clone())
            .unwrap_or_default(),
        country_code: message
            .location
            .as_ref()
            .map(|l| l.country_code.clone())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_overlaps_its_name_and_contact_and_nothing_else() {
        assert!(CorrectedField::Source.overlaps(CorrectedField::SourceName));
        assert!(CorrectedField::SourceContact.overlaps(CorrectedField::Source));
        assert!(!CorrectedField::SourceName.overlaps(CorrectedField::SourceContact));
        assert!(!CorrectedField::Victims.overlaps(CorrectedField::Narrative));
        for field in CorrectedField::ALL {
            assert_eq!(CorrectedField::from_path(field.path()), Some(*field));
        }
    }

    #[test]
    fn only_the_named_fields_are_taken_from_the_request() {
        let mut stored = pb::Allegation {
            narrative: "Shelling at dawn".into(),
            language: "az".into(),
            source: Some(pb::Source {
                name: "Leyla".into(),
                contact: "+994 000".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let request = pb::Allegation {
            narrative: "Shelling at night".into(),
            source: Some(pb::Source {
                name: "Leyla Mammadova".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        overlay(
            &mut stored,
            request,
            &[CorrectedField::Narrative, CorrectedField::SourceName],
        );
        assert_eq!(stored.narrative, "Shelling at night");
        assert_eq!(stored.language, "az");
        let source = stored.source.unwrap();
        assert_eq!(
            (source.name.as_str(), source.contact.as_str()),
            ("Leyla Mammadova", "+994 000")
        );
    }
}
