//! A submitted `Allegation` message into a domain [`NewAllegation`].

use chrono::{DateTime, Utc};
use docket_domain::Violations;
use docket_domain::allegation::{NewAllegation, NewAllegationInput, PerpetratorInput, SourceInput};

use super::enums::decode_enum;
use super::incident;
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
        incident_period: a
            .incident_period
            .map(|p| incident::period(v, "incident_period", p)),
        location: a.location.map(|l| incident::location(v, "location", l)),
        violation_types: incident::violation_types(v, "violation_types", &a.violation_types),
        alleged_perpetrators: a
            .alleged_perpetrators
            .into_iter()
            .map(|p| PerpetratorInput {
                party_code: p.party_code,
                unit: p.unit,
                description: p.description,
            })
            .collect(),
        victims: incident::victims(v, "victims", a.victims),
        source_urls: a.source_urls,
    }
}
