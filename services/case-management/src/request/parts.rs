//! Requests about the parts of a case: persons, charges, evidence and its assessments.

use chrono::{DateTime, Utc};
use docket_domain::Violations;
use docket_domain::allegation::ContactDetails;
use docket_domain::case::{
    AssessmentMethod, CasualtyInput, ChargeStatus, CrimeTypeCode, EvidenceDescription, Examiner,
    FiledDate, Findings, ModeOfLiability, PersonName, PersonRole, PersonRoleDetails,
    PersonRoleInput, ProtectiveMeasure, Verdict,
};
use docket_domain::history::ChangeReason;
use docket_proto::decode_enum;
use docket_proto::docket::cases::v1 as pb;
use uuid::Uuid;

use super::{case_id, etag, uuid};
use crate::store::{EvidenceLink, Identity, NewAssessment, NewCharge, NewPerson};

/// The case a change is for and the etag the caller sent, if any.
pub type Target = (Uuid, Option<String>);

/// Checks `case_id` and the optional `etag`; `None` when either is bad.
fn target(v: &mut Violations, case_id_value: &str, raw_etag: String) -> Option<Target> {
    let id = self::case_id(v, "case_id", case_id_value);
    let etag = etag(v, "etag", raw_etag, false);
    id.map(|id| (id, etag))
}

/// A person's role and its details, with paths under `person`.
fn role_details(v: &mut Violations, person: &mut pb::Person) -> Option<PersonRoleDetails> {
    let mut wire = Violations::default();
    let input = PersonRoleInput {
        role: decode_enum::<pb::PersonRole, PersonRole>(&mut wire, "role", person.role),
        position: std::mem::take(&mut person.position),
        affiliation_party_code: std::mem::take(&mut person.affiliation_party_code),
        mode_of_liability: decode_enum::<pb::ModeOfLiability, ModeOfLiability>(
            &mut wire,
            "mode_of_liability",
            person.mode_of_liability,
        ),
        pseudonym: std::mem::take(&mut person.pseudonym),
        protective_measures: person
            .protective_measures
            .iter()
            .enumerate()
            .map(|(i, raw)| {
                decode_enum::<pb::ProtectiveMeasure, ProtectiveMeasure>(
                    &mut wire,
                    &format!("protective_measures[{i}]"),
                    *raw,
                )
            })
            .collect(),
        casualty: person
            .victim
            .take()
            .map(|victim| casualty(&mut wire, victim)),
    };
    let details = wire.nest(
        "",
        PersonRoleDetails::parse(input, chrono::Utc::now().date_naive()),
    );
    v.absorb("person", wire);
    details
}

/// A named victim's details as they arrive, their enums decoded (paths under `victim`).
fn casualty(wire: &mut Violations, victim: pb::VictimDetails) -> CasualtyInput {
    use docket_domain::incident::{Harm, Sex, VictimStatus};
    use docket_proto::docket::common::v1 as common;
    CasualtyInput {
        status: decode_enum::<common::VictimStatus, VictimStatus>(
            wire,
            "victim.status",
            victim.status,
        ),
        harm: decode_enum::<common::Harm, Harm>(wire, "victim.harm", victim.harm),
        sex: decode_enum::<common::Sex, Sex>(wire, "victim.sex", victim.sex),
        age_years: victim.age_years,
        birth_year: victim.birth_year,
        harm_date: victim.harm_date,
        harm_place: victim.harm_place,
        allegation_ids: victim.allegation_ids,
    }
}

/// A valid request about a pair of named victims: the two persons (distinct) and why.
pub fn casualty_pair(
    person_id: &str,
    other_person_id: &str,
    reason: String,
) -> Result<(Uuid, Uuid, ChangeReason), Violations> {
    let mut v = Violations::default();
    let person = uuid(&mut v, "person_id", person_id);
    let other = uuid(&mut v, "other_person_id", other_person_id);
    if person.is_some() && person == other {
        v.add("other_person_id", "must be another person than person_id");
    }
    let reason = v.check("reason", ChangeReason::parse(reason));
    match (person, other, reason) {
        (Some(person), Some(other), Some(reason)) if v.is_empty() => Ok((person, other, reason)),
        _ => Err(v),
    }
}

/// A valid `ListCasualtyCandidates` request: the person asked about.
pub fn casualty_candidates(request: pb::ListCasualtyCandidatesRequest) -> Result<Uuid, Violations> {
    let mut v = Violations::default();
    match uuid(&mut v, "person_id", &request.person_id) {
        Some(id) if v.is_empty() => Ok(id),
        _ => Err(v),
    }
}

pub fn add_person(request: pb::AddPersonRequest) -> Result<(Target, NewPerson), Violations> {
    let mut v = Violations::default();
    let target = target(&mut v, &request.case_id, request.etag);
    let Some(mut person) = request.person else {
        v.add("person", "is required");
        return Err(v);
    };
    let details = role_details(&mut v, &mut person);
    let identity = if person.id.is_empty() {
        let name = v.check(
            "person.display_name",
            PersonName::parse(person.display_name),
        );
        let contact = if person.contact.trim().is_empty() {
            None
        } else {
            v.check(
                "person.contact",
                ContactDetails::parse(person.contact).map_err(|e| e.to_string()),
            )
        };
        name.map(|name| Identity::New { name, contact })
    } else {
        // A registered person's identity comes from the registry: a second, different name for
        // the same id would be ambiguous.
        for (field, value) in [
            ("person.display_name", &person.display_name),
            ("person.contact", &person.contact),
        ] {
            if !value.is_empty() {
                v.add(
                    field,
                    "must be empty when person.id names a registered person",
                );
            }
        }
        uuid(&mut v, "person.id", &person.id).map(Identity::Existing)
    };
    match (target, identity, details) {
        (Some(target), Some(identity), Some(details)) if v.is_empty() => {
            Ok((target, NewPerson { identity, details }))
        }
        _ => Err(v),
    }
}

pub fn update_person(
    request: pb::UpdatePersonRequest,
) -> Result<(Target, Uuid, PersonRoleDetails), Violations> {
    let mut v = Violations::default();
    let target = target(&mut v, &request.case_id, request.etag);
    let Some(mut person) = request.person else {
        v.add("person", "is required");
        return Err(v);
    };
    let id = uuid(&mut v, "person.id", &person.id);
    for (field, value) in [
        ("person.display_name", &person.display_name),
        ("person.contact", &person.contact),
    ] {
        if !value.is_empty() {
            v.add(field, "cannot be changed by UpdatePerson; leave it empty");
        }
    }
    let details = role_details(&mut v, &mut person);
    match (target, id, details) {
        (Some(target), Some(id), Some(details)) if v.is_empty() => Ok((target, id, details)),
        _ => Err(v),
    }
}

/// A request that names only a case.
pub fn list_by_case(value: &str) -> Result<Uuid, Violations> {
    let mut v = Violations::default();
    match case_id(&mut v, "case_id", value) {
        Some(id) => Ok(id),
        None => Err(v),
    }
}

pub fn file_charge(
    request: pb::FileChargeRequest,
    now: DateTime<Utc>,
) -> Result<(Target, NewCharge), Violations> {
    let mut v = Violations::default();
    let target = target(&mut v, &request.case_id, request.etag);
    let person_id = uuid(&mut v, "person_id", &request.person_id);
    let crime_type = v.check(
        "crime_type_code",
        CrimeTypeCode::parse(&request.crime_type_code),
    );
    let filed_date = v.check("filed_date", FiledDate::parse(&request.filed_date, now));
    match (target, person_id, crime_type, filed_date) {
        (Some(target), Some(person_id), Some(crime_type), Some(filed_date)) if v.is_empty() => {
            Ok((
                target,
                NewCharge {
                    person_id,
                    crime_type,
                    in_absentia: request.in_absentia,
                    filed_date,
                },
            ))
        }
        _ => Err(v),
    }
}

pub fn update_charge_status(
    request: pb::UpdateChargeStatusRequest,
) -> Result<(Target, Uuid, ChargeStatus), Violations> {
    let mut v = Violations::default();
    let target = target(&mut v, &request.case_id, request.etag);
    let charge = uuid(&mut v, "charge_id", &request.charge_id);
    let status = decode_enum::<pb::ChargeStatus, ChargeStatus>(&mut v, "status", request.status);
    if status.is_none() {
        v.add("status", "is required");
    }
    match (target, charge, status) {
        (Some(target), Some(charge), Some(status)) if v.is_empty() => Ok((target, charge, status)),
        _ => Err(v),
    }
}

pub fn link_evidence(
    request: pb::LinkEvidenceRequest,
) -> Result<(Target, EvidenceLink), Violations> {
    let mut v = Violations::default();
    let target = target(&mut v, &request.case_id, request.etag);
    let evidence_id = uuid(&mut v, "evidence_id", &request.evidence_id);
    let description = v.check(
        "description",
        EvidenceDescription::parse(request.description),
    );
    let reason = if request.reason.trim().is_empty() {
        None
    } else {
        v.check("reason", ChangeReason::parse(request.reason))
    };
    match (target, evidence_id, description) {
        (Some(target), Some(evidence_id), Some(description)) if v.is_empty() => Ok((
            target,
            EvidenceLink {
                evidence_id,
                description,
                reason,
            },
        )),
        _ => Err(v),
    }
}

/// A checked `ReceiveEvidence` request: the item and the case intake holds it registered to.
/// Both are UUIDs: intake's outbox sends ids, never references.
pub fn receive_evidence(request: &pb::ReceiveEvidenceRequest) -> Result<(Uuid, Uuid), Violations> {
    let mut v = Violations::default();
    let evidence_id = uuid(&mut v, "evidence_id", &request.evidence_id);
    let case_id = uuid(&mut v, "case_id", &request.case_id);
    match (evidence_id, case_id) {
        (Some(evidence_id), Some(case_id)) if v.is_empty() => Ok((evidence_id, case_id)),
        _ => Err(v),
    }
}

pub fn record_assessment(
    request: pb::RecordAssessmentRequest,
) -> Result<(Target, NewAssessment), Violations> {
    let mut v = Violations::default();
    let target = target(&mut v, &request.case_id, request.etag);
    let Some(a) = request.assessment else {
        v.add("assessment", "is required");
        return Err(v);
    };
    let evidence_id = uuid(&mut v, "assessment.evidence_id", &a.evidence_id);
    let verdict = decode_enum::<pb::Verdict, Verdict>(&mut v, "assessment.verdict", a.verdict);
    if verdict.is_none() {
        v.add("assessment.verdict", "is required");
    }
    let method = decode_enum::<pb::AssessmentMethod, AssessmentMethod>(
        &mut v,
        "assessment.method",
        a.method,
    );
    if method.is_none() {
        v.add("assessment.method", "is required");
    }
    let examiner = v.check("assessment.examiner", Examiner::parse(a.examiner));
    let findings = v.check("assessment.findings", Findings::parse(a.findings));
    match (target, evidence_id, verdict, method, examiner, findings) {
        (
            Some(target),
            Some(evidence_id),
            Some(verdict),
            Some(method),
            Some(examiner),
            Some(findings),
        ) if v.is_empty() => Ok((
            target,
            NewAssessment {
                evidence_id,
                verdict,
                method,
                examiner,
                findings,
            },
        )),
        _ => Err(v),
    }
}

/// A valid `RemovePerson` request: the person and why.
pub fn remove_person(
    request: pb::RemovePersonRequest,
) -> Result<(Target, Uuid, ChangeReason), Violations> {
    let mut v = Violations::default();
    let target = target(&mut v, &request.case_id, request.etag);
    let person = uuid(&mut v, "person_id", &request.person_id);
    let reason = v.check("reason", ChangeReason::parse(request.reason));
    match (target, person, reason) {
        (Some(target), Some(person), Some(reason)) if v.is_empty() => Ok((target, person, reason)),
        _ => Err(v),
    }
}

/// A valid `UnlinkEvidence` request: the item and why.
pub fn unlink_evidence(
    request: pb::UnlinkEvidenceRequest,
) -> Result<(Target, Uuid, ChangeReason), Violations> {
    let mut v = Violations::default();
    let target = target(&mut v, &request.case_id, request.etag);
    let evidence = uuid(&mut v, "evidence_id", &request.evidence_id);
    let reason = v.check("reason", ChangeReason::parse(request.reason));
    match (target, evidence, reason) {
        (Some(target), Some(evidence), Some(reason)) if v.is_empty() => {
            Ok((target, evidence, reason))
        }
        _ => Err(v),
    }
}
