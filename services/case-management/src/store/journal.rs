//! Recording a change of a case: its audit entry and, for reporting and any other follower, the
//! case as it now is, both in the transaction of the change (see `docket_platform::journal`).
//! A full snapshot per change keeps followers simple and idempotent: they replace what they held.

use docket_platform::audit::AuditRecord;
use docket_platform::history::Change;
use docket_platform::journal;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::events::v1 as ev;
use sea_orm::DatabaseTransaction;
use sea_orm::EntityTrait;
use sea_orm::prelude::Uuid;

use super::CaseStore;
use super::casualty::named_victims;
use super::charge::charges_of;
use super::evidence::{EvidenceStanding, evidence_standing};
use super::history;
use super::read::load_one;
use crate::entity::case;
use crate::error::CaseError;
use crate::register::Decisions;

impl CaseStore {
    /// Appends `audit` and the `CaseChanged` snapshot of case `case_id` in `txn`, and keeps
    /// what the change changed in the case's history. Call after the change and before the
    /// commit; call [`CaseStore::committed`] after the commit.
    pub(super) async fn record_change(
        &self,
        txn: &DatabaseTransaction,
        case_id: Uuid,
        audit: &AuditRecord,
    ) -> Result<(), CaseError> {
        self.record_change_because(txn, case_id, audit, None).await
    }

    /// [`CaseStore::record_change`], with the reason the caller gave for the change.
    pub(super) async fn record_change_because(
        &self,
        txn: &DatabaseTransaction,
        case_id: Uuid,
        audit: &AuditRecord,
        reason: Option<&str>,
    ) -> Result<(), CaseError> {
        let case = load_one(txn, case_id).await?;
        let charges = charges_of(txn, case_id).await?;
        let version = case::Entity::find_by_id(case_id)
            .one(txn)
            .await?
            .ok_or(CaseError::CaseNotFound(case_id))?
            .version;
        let change = Change {
            action: &audit.action,
            by: &audit.subject,
            reason,
        };
        history::record(txn, &case, &charges, version, change).await?;
        let evidence = evidence_standing(txn, case_id).await?;
        let named = named_victims(txn, case_id, &self.register.decisions()).await?;
        journal::record(
            txn,
            audit,
            Some(&case_changed(case, charges, evidence, named)),
        )
        .await?;
        Ok(())
    }

    /// The `CaseChanged` snapshot of case `case_id` as it stands in `txn`, its named victims in
    /// the register entries of `decisions`: what a decision of the register republishes.
    pub(super) async fn snapshot(
        &self,
        txn: &DatabaseTransaction,
        case_id: Uuid,
        decisions: &Decisions,
    ) -> Result<ev::EventPayload, CaseError> {
        let case = load_one(txn, case_id).await?;
        let charges = charges_of(txn, case_id).await?;
        let evidence = evidence_standing(txn, case_id).await?;
        let named = named_victims(txn, case_id, decisions).await?;
        Ok(case_changed(case, charges, evidence, named))
    }

    /// Wakes the followers of the event stream, and the outbox's dispatcher, after a commit.
    pub(super) fn committed(&self) {
        self.events.committed();
        self.outbox.committed();
    }
}

fn case_changed(
    case: pb::Case,
    charges: Vec<pb::Charge>,
    evidence: EvidenceStanding,
    named_victims: Vec<ev::NamedVictim>,
) -> ev::EventPayload {
    let status = case.status().as_str_name().to_owned();
    let close_reason = if case.close_reason() == pb::CloseReason::Unspecified {
        String::new()
    } else {
        case.close_reason().as_str_name().to_owned()
    };
    // Coordinates go together or not at all, as the location's validation keeps them.
    let (latitude, longitude) = match case.location.as_ref() {
        Some(location) => match (location.latitude, location.longitude) {
            (Some(latitude), Some(longitude)) => (Some(latitude), Some(longitude)),
            _ => (None, None),
        },
        None => (None, None),
    };
    let snapshot = ev::CaseChanged {
        case_id: case.id,
        reference: case.reference,
        status,
        opened_time: case.opened_at,
        party_codes: case.party_codes,
        crime_type_codes: case.crime_type_codes,
        victims: case.victims,
        allegation_ids: case.allegation_ids,
        incident_start_time: case.incident_period.and_then(|p| p.start_time),
        place_name: case.location.map(|l| l.place_name).unwrap_or_default(),
        charges: charges
            .into_iter()
            .map(|charge| ev::ChargeState {
                status: charge.status().as_str_name().to_owned(),
                charge_id: charge.id,
                person_id: charge.person_id,
                crime_type_code: charge.crime_type_code,
                in_absentia: charge.in_absentia,
            })
            .collect(),
        close_reason,
        only_fabricated_evidence: evidence.only_fabricated,
        evidence_ids: evidence.linked.iter().map(Uuid::to_string).collect(),
        case_fabricated_evidence_ids: evidence
            .case_fabricated
            .iter()
            .map(Uuid::to_string)
            .collect(),
        named_victims,
        latitude,
        longitude,
    };
    ev::EventPayload {
        kind: Some(ev::event_payload::Kind::CaseChanged(snapshot)),
    }
}
