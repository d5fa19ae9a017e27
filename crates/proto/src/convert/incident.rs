//! The shared incident vocabulary (`docket.common.v1`) decoded from the wire into the raw
//! inputs the domain parses, with unreadable values recorded as violations.

use docket_domain::Violations;
use docket_domain::allegation::{PeriodInput, VictimGroupInput};
use docket_domain::incident::{LocationInput, ViolationType};

use super::enums::decode_enum;
use super::time::parse_time;
use crate::docket::common::v1 as common;

/// An incident period; field paths under `field`.
pub(crate) fn period(v: &mut Violations, field: &str, p: common::IncidentPeriod) -> PeriodInput {
    PeriodInput {
        start: p
            .start_time
            .and_then(|t| v.check(&format!("{field}.start_time"), parse_time(&t))),
        end: p
            .end_time
            .and_then(|t| v.check(&format!("{field}.end_time"), parse_time(&t))),
        precision: decode_enum::<common::TimePrecision, _>(
            v,
            &format!("{field}.precision"),
            p.precision,
        ),
    }
}

/// A location; field paths under `field`.
pub(crate) fn location(v: &mut Violations, field: &str, l: common::Location) -> LocationInput {
    LocationInput {
        place_name: l.place_name,
        admin_area: l.admin_area,
        country_code: l.country_code,
        latitude: l.latitude,
        longitude: l.longitude,
        precision: decode_enum::<common::LocationPrecision, _>(
            v,
            &format!("{field}.precision"),
            l.precision,
        ),
    }
}

/// Violation types; field paths `field[i]`.
pub(crate) fn violation_types(
    v: &mut Violations,
    field: &str,
    raw: &[i32],
) -> Vec<Option<ViolationType>> {
    raw.iter()
        .enumerate()
        .map(|(i, raw)| decode_enum::<common::ViolationType, _>(v, &format!("{field}[{i}]"), *raw))
        .collect()
}

/// Victim groups; field paths `field[i].name`.
pub(crate) fn victims(
    v: &mut Violations,
    field: &str,
    groups: Vec<common::VictimGroup>,
) -> Vec<VictimGroupInput> {
    groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let path = |name: &str| format!("{field}[{i}].{name}");
            VictimGroupInput {
                count: i64::from(g.count),
                status: decode_enum::<common::VictimStatus, _>(v, &path("status"), g.status),
                harm: decode_enum::<common::Harm, _>(v, &path("harm"), g.harm),
                age_group: decode_enum::<common::AgeGroup, _>(v, &path("age_group"), g.age_group),
                sex: decode_enum::<common::Sex, _>(v, &path("sex"), g.sex),
                affiliation_party_code: g.affiliation_party_code,
                age_band: decode_enum::<common::AgeBand, _>(v, &path("age_band"), g.age_band),
            }
        })
        .collect()
}
