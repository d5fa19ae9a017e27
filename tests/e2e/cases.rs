//! Case management end to end: allegations delivered and turned into cases, the lifecycle,
//! qualification, persons, charges, evidence assessments, and every request refused when bad.

mod bad_input;
mod delivery;
mod lifecycle;
mod lists;
mod merges;
mod provenance;
mod search;
mod seed;

use docket_e2e::CaseClient;
use docket_proto::docket::cases::v1 as pb;

/// Opens `case` by hand.
async fn open(cases: &mut CaseClient, case: pb::Case) -> pb::Case {
    cases
        .open_case(pb::OpenCaseRequest { r#case: Some(case) })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap()
}

/// Moves `case` to `target` (not CLOSED); returns it as moved.
async fn advance(cases: &mut CaseClient, case: &pb::Case, target: pb::CaseStatus) -> pb::Case {
    cases
        .transition_case(pb::TransitionCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            target_status: target.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap()
}

/// Qualifies `case` with `codes`; returns it as qualified.
async fn qualify(cases: &mut CaseClient, case: &pb::Case, codes: &[&str]) -> pb::Case {
    cases
        .qualify_case(pb::QualifyCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            add_crime_type_codes: codes.iter().map(|c| (*c).to_owned()).collect(),
            remove_crime_type_codes: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap()
}

/// The total number of victims in `case`.
fn casualties(case: &pb::Case) -> i32 {
    case.victims.iter().map(|g| g.count).sum()
}

/// Case `id` as it is now.
async fn get(cases: &mut CaseClient, id: &str) -> pb::Case {
    cases
        .get_case(pb::GetCaseRequest {
            case_id: id.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap()
}
