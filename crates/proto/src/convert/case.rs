//! Wire messages of `docket.cases.v1` into domain values: a case's fields, and the allegation
//! snapshot intake delivers.

use chrono::{DateTime, Utc};
use docket_domain::Violations;
use docket_domain::allegation::AllegationReference;
use docket_domain::case::{CaseContent, CaseContentInput, CaseField, ReceivedAllegation};
use docket_domain::incident::{AllegedPerpetrator, IncidentPeriod, Location, VictimGroup};
use docket_domain::party::KnownParties;
use uuid::Uuid;

use super::incident;
use super::time::parse_time;
use crate::docket::cases::v1 as cases;

/// The new values of `fields` in a wire case, checked at `now`. Violations carry paths under
/// `prefix` (`case` in an `OpenCaseRequest`); problems with fields not named are ignored.
pub fn parse_case_content(
    prefix: &str,
    case: cases::Case,
    fields: &[CaseField],
    parties: &KnownParties,
    now: DateTime<Utc>,
) -> Result<Vec<CaseContent>, Violations> {
    let mut wire = Violations::default();
    let input = CaseContentInput {
        title: case.title,
        summary: case.summary,
        party_codes: case.party_codes,
        violation_types: incident::violation_types(
            &mut wire,
            "violation_types",
            &case.violation_types,
        ),
        victims: incident::victims(&mut wire, "victims", case.victims),
        incident_period: case
            .incident_period
            .map(|p| incident::period(&mut wire, "incident_period", p)),
        location: case
            .location
            .map(|l| incident::location(&mut wire, "location", l)),
        assigned_investigator: case.assigned_investigator,
        assigned_prosecutor: case.assigned_prosecutor,
    };
    let mut relevant = Violations::default();
    for violation in wire.iter() {
        let head = violation.field.split(['.', '[']).next().unwrap_or_default();
        if fields.iter().any(|f| f.code() == head) {
            relevant.add(violation.field.clone(), violation.description.clone());
        }
    }
    let parsed = CaseContent::parse(input, fields, parties, now);
    let mut out = Violations::default();
    match parsed {
        Ok(changes) if relevant.is_empty() => return Ok(changes),
        Ok(_) => out.absorb(prefix, relevant),
        Err(domain) => {
            relevant.absorb("", domain);
            out.absorb(prefix, relevant);
        }
    }
    Err(out)
}

/// A UUID in `field`, required.
pub fn parse_uuid(field: &str, value: &str) -> Result<Uuid, Violations> {
    if value.is_empty() {
        return Err(Violations::single(field, "is required"));
    }
    Uuid::parse_str(value).map_err(|_| Violations::single(field, "must be a UUID"))
}

/// An allegation delivered by intake, received at `now`. Violations carry paths under `prefix`.
pub fn parse_received_allegation(
    prefix: &str,
    snapshot: cases::AllegationSnapshot,
    now: DateTime<Utc>,
) -> Result<ReceivedAllegation, Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_uuid("id", &snapshot.id));
    let reference = v.check(
        "reference",
        snapshot.reference.parse::<AllegationReference>(),
    );
    let received_at = snapshot
        .received_at
        .and_then(|t| v.check("received_at", parse_time(&t)));
    let duplicate_of = match snapshot.duplicate_of_id.as_str() {
        "" => None,
        raw => v.nest("", parse_uuid("duplicate_of_id", raw)),
    };
    if duplicate_of.is_some() && duplicate_of == id {
        v.add("duplicate_of_id", "must differ from id");
    }
    let join_case = match snapshot.join_case_id.as_str() {
        "" => None,
        raw => v.nest("", parse_uuid("join_case_id", raw)),
    };
    if join_case.is_some() && duplicate_of.is_some() {
        v.add(
            "join_case_id",
            "must be empty for a duplicate, which joins the case of its original",
        );
    }
    let raw_types = incident::violation_types(&mut v, "violation_types", &snapshot.violation_types);
    if raw_types.is_empty() {
        v.add("violation_types", "at least one violation type is required");
    }
    let mut violation_types = Vec::new();
    for (index, t) in raw_types.into_iter().enumerate() {
        match t {
            None => v.add(format!("violation_types[{index}]"), "is required"),
            Some(t) if violation_types.contains(&t) => {
                v.add(format!("violation_types[{index}]"), format!("repeats {t}"));
            }
            Some(t) => violation_types.push(t),
        }
    }
    let mut perpetrators = Vec::new();
    for (index, p) in snapshot.alleged_perpetrators.into_iter().enumerate() {
        if let Some(p) = v.nest(
            &format!("alleged_perpetrators[{index}]"),
            AllegedPerpetrator::parse(&p.party_code, p.unit, p.description),
        ) {
            perpetrators.push(p);
        }
    }
    let mut victims = Vec::new();
    for (index, g) in incident::victims(&mut v, "victims", snapshot.victims)
        .into_iter()
        .enumerate()
    {
        if let Some(g) = v.nest(&format!("victims[{index}]"), VictimGroup::parse(g)) {
            victims.push(g);
        }
    }
    let incident_period = snapshot.incident_period.and_then(|p| {
        let p = incident::period(&mut v, "incident_period", p);
        v.nest(
            "incident_period",
            IncidentPeriod::parse(p.start, p.end, p.precision, now),
        )
    });
    let location = snapshot.location.and_then(|l| {
        let l = incident::location(&mut v, "location", l);
        v.nest("location", Location::parse(l))
    });
    let mut out = Violations::default();
    match (id, reference) {
        (Some(id), Some(reference)) if v.is_empty() => Ok(ReceivedAllegation {
            id,
            reference,
            received_at,
            violation_types,
            perpetrators,
            victims,
            incident_period,
            location,
            duplicate_of,
            join_case,
        }),
        _ => {
            out.absorb(prefix, v);
            Err(out)
        }
    }
}
