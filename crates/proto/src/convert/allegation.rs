//! A submitted `Allegation` message into a domain [`NewAllegation`].

use chrono::{DateTime, Utc};
use docket_domain::Violations;
use docket_domain::allegation::{
    NewAllegation, NewAllegationInput, PeriodInput, PerpetratorInput, SourceInput, VictimGroupInput,
};
use docket_domain::incident::LocationInput;

use super::enums::decode_enum;
use super::time::parse_time;
use crate::docket::common::v1 as common;
use crate::docket::intake::v1 as intake;

/// Parses a submitted allegation received at `now`. Violations carry paths under `prefix`
/// (`allegation` in a `SubmitAllegationRequest`). Output-only fields are ignored.
pub fn parse_new_allegation(
    prefix: &str,
    allegation: intake::Allegation,
    now: DateTime<Utc>,
) -> Result<NewAllegation, Violations> {
    // Problems found while decoding the wire (unknown enum numbers, unreadable timestamps), with
    // paths relative to the allegation like the domain's own.
    let mut wire = Violations::default();
    let input = decode(&mut wire, allegation);
    let mut violations = Violations::default();
    match NewAllegation::parse(input, now) {
        Ok(parsed) if wire.is_empty() => return Ok(parsed),
        Ok(_) => {}
        Err(domain) => wire.absorb("", domain),
    }
    violations.absorb(prefix, wire);
    Err(violations)
}

fn decode(v: &mut Violations, a: intake::Allegation) -> NewAllegationInput {
    NewAllegationInput {
        channel: decode_enum::<intake::Channel, _>(v, "channel", a.channel),
        source: a.source.map(|s| SourceInput {
            anonymous: s.anonymous,
            name: s.name,
            contact: s.contact,
        }),
        narrative: a.narrative,
        language: a.language,
        incident_period: a.incident_period.map(|p| PeriodInput {
            start: p
                .start_time
                .and_then(|t| v.check("incident_period.start_time", parse_time(&t))),
            end: p
                .end_time
                .and_then(|t| v.check("incident_period.end_time", parse_time(&t))),
            precision: decode_enum::<common::TimePrecision, _>(
                v,
                "incident_period.precision",
                p.precision,
            ),
        }),
        location: a.location.map(|l| LocationInput {
            place_name: l.place_name,
            admin_area: l.admin_area,
            country_code: l.country_code,
            latitude: l.latitude,
            longitude: l.longitude,
            precision: decode_enum::<common::LocationPrecision, _>(
                v,
                "location.precision",
                l.precision,
            ),
        }),
        violation_types: a
            .violation_types
            .iter()
            .enumerate()
            .map(|(i, raw)| {
                decode_enum::<common::ViolationType, _>(v, &format!("violation_types[{i}]"), *raw)
            })
            .collect(),
        alleged_perpetrators: a
            .alleged_perpetrators
            .into_iter()
            .map(|p| PerpetratorInput {
                party_code: p.party_code,
                unit: p.unit,
                description: p.description,
            })
            .collect(),
        victims: a
            .victims
            .into_iter()
            .enumerate()
            .map(|(i, g)| {
                let field = |name: &str| format!("victims[{i}].{name}");
                VictimGroupInput {
                    count: i64::from(g.count),
                    status: decode_enum::<common::VictimStatus, _>(v, &field("status"), g.status),
                    harm: decode_enum::<common::Harm, _>(v, &field("harm"), g.harm),
                    age_group: decode_enum::<common::AgeGroup, _>(
                        v,
                        &field("age_group"),
                        g.age_group,
                    ),
                    sex: decode_enum::<common::Sex, _>(v, &field("sex"), g.sex),
                }
            })
            .collect(),
        source_urls: a.source_urls,
    }
}
