//! Checked `SearchAllegations` and `ListSimilarAllegations` requests.

use docket_domain::Violations;
use docket_domain::allegation::{AllegationStatus, Channel};
use docket_domain::incident::ViolationType;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use docket_search::Ask;
use docket_search::request::{SearchQuery, Sent, check, enums};
use uuid::Uuid;

use super::parse_allegation_id;

/// A checked `SearchAllegationsRequest`.
pub fn search(r: &pb::SearchAllegationsRequest) -> Result<SearchQuery, Violations> {
    let mut v = Violations::default();
    let ask = Ask {
        violation_types: enums::<common::ViolationType, ViolationType>(
            &mut v,
            "violation_types",
            &r.violation_types,
        ),
        statuses: enums::<pb::AllegationStatus, AllegationStatus>(&mut v, "statuses", &r.statuses),
        channels: enums::<pb::Channel, Channel>(&mut v, "channels", &r.channels),
        ..Ask::default()
    };
    let sent = Sent {
        query: &r.query,
        incident_from_time: r.incident_from_time.as_ref(),
        incident_to_time: r.incident_to_time.as_ref(),
        within_radius: r.within_radius.as_ref(),
        within_box: r.within_box.as_ref(),
        party_codes: &r.party_codes,
        page_size: r.page_size,
        page_token: &r.page_token,
    };
    check(&mut v, sent, ask).ok_or(v)
}

/// A checked `ListSimilarAllegationsRequest`: the allegation and how many candidates at most.
pub fn similar(r: &pb::ListSimilarAllegationsRequest) -> Result<(Uuid, usize), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_allegation_id("allegation_id", &r.allegation_id));
    let limit = match r.max_results {
        0 => Some(10),
        n @ 1..=50 => usize::try_from(n).ok(),
        _ => {
            v.add("max_results", "must be between 1 and 50 (0 means 10)");
            None
        }
    };
    match (id, limit) {
        (Some(id), Some(limit)) if v.is_empty() => Ok((id, limit)),
        _ => Err(v),
    }
}
