//! A checked `SearchCases` request.

use docket_domain::Violations;
use docket_domain::case::CaseStatus;
use docket_domain::incident::ViolationType;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use docket_search::Ask;
use docket_search::request::{SearchQuery, Sent, check, enums};

/// A checked `SearchCasesRequest`.
pub fn search(r: &pb::SearchCasesRequest) -> Result<SearchQuery, Violations> {
    let mut v = Violations::default();
    let ask = Ask {
        violation_types: enums::<common::ViolationType, ViolationType>(
            &mut v,
            "violation_types",
            &r.violation_types,
        ),
        statuses: enums::<pb::CaseStatus, CaseStatus>(&mut v, "statuses", &r.statuses),
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
