//! Every case-management request with bad input: INVALID_ARGUMENT naming each bad field, and
//! nothing written.

use docket_e2e::{Backend, TestApp, case_message, field_violations, on_every_backend, snapshot};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use tonic::Code;

use super::open;

on_every_backend!(
    bad_cases_and_deliveries_are_refused_field_by_field,
    bad_changes_to_a_case_are_refused_field_by_field,
    bad_persons_charges_and_assessments_are_refused_field_by_field,
);

/// Asserts `result` is INVALID_ARGUMENT naming exactly `fields`.
fn refused<T: std::fmt::Debug>(result: Result<T, tonic::Status>, fields: &[&str]) {
    let status = result.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(field_violations(&status), fields, "{}", status.message());
}

async fn bad_cases_and_deliveries_are_refused_field_by_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    refused(
        cases.open_case(pb::OpenCaseRequest { r#case: None }).await,
        &["case"],
    );
    let mut bad = case_message(" ", "am");
    bad.victims[0].count = 0;
    bad.victims[0].sex = 0;
    bad.violation_types.push(99);
    bad.incident_period = Some(common::IncidentPeriod {
        start_time: Some(prost_types::Timestamp {
            seconds: 4_000_000_000,
            nanos: 0,
        }),
        end_time: None,
        precision: 0,
    });
    bad.location = Some(common::Location {
        latitude: Some(95.0),
        precision: common::LocationPrecision::Exact.into(),
        ..Default::default()
    });
    refused(
        cases
            .open_case(pb::OpenCaseRequest { r#case: Some(bad) })
            .await,
        &[
            "case.violation_types[1]",
            "case.title",
            "case.party_codes[0]",
            "case.victims[0].count",
            "case.victims[0].sex",
            "case.incident_period.precision",
            "case.incident_period.start_time",
            "case.location.latitude",
            "case.location.longitude",
        ],
    );

    let mut dispatcher = app.cases_as(Role::Service).await;
    refused(
        dispatcher
            .receive_allegation(pb::ReceiveAllegationRequest { allegation: None })
            .await,
        &["allegation"],
    );
    let mut delivery = snapshot(5);
    delivery.id = "ALG-2020-000005".into();
    delivery.reference = "5".into();
    delivery.violation_types.clear();
    delivery.victims[1].count = -1;
    refused(
        dispatcher
            .receive_allegation(pb::ReceiveAllegationRequest {
                allegation: Some(delivery),
            })
            .await,
        &[
            "allegation.id",
            "allegation.reference",
            "allegation.violation_types",
            "allegation.victims[1].count",
        ],
    );
    let mut itself = snapshot(6);
    itself.duplicate_of_id = itself.id.clone();
    refused(
        dispatcher
            .receive_allegation(pb::ReceiveAllegationRequest {
                allegation: Some(itself),
            })
            .await,
        &["allegation.duplicate_of_id"],
    );

    refused(
        cases
            .get_case(pb::GetCaseRequest {
                case_id: "CASE-2020-1".into(),
            })
            .await,
        &["case_id"],
    );
    refused(
        cases
            .list_cases(pb::ListCasesRequest {
                page_size: -1,
                page_token: "nope".into(),
                status: 42,
                party_code: "armenia".into(),
                crime_type_code: "Wilful Killing".into(),
                allegation_id: "x".into(),
                opened_after: Some(prost_types::Timestamp {
                    seconds: 10,
                    nanos: 0,
                }),
                opened_before: Some(prost_types::Timestamp {
                    seconds: 5,
                    nanos: 0,
                }),
                ..Default::default()
            })
            .await,
        &[
            "page_size",
            "status",
            "party_code",
            "crime_type_code",
            "allegation_id",
            "opened_before",
            "page_token",
        ],
    );
    refused(
        cases
            .list_case_history(pb::ListCaseHistoryRequest::default())
            .await,
        &["case_id"],
    );
    let unknown = cases
        .get_case(pb::GetCaseRequest {
            case_id: uuid::Uuid::now_v7().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let none = cases
        .list_cases(pb::ListCasesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(none.cases.is_empty(), "nothing was written");
    app.stop().await;
}

async fn bad_changes_to_a_case_are_refused_field_by_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let case = open(
        &mut cases,
        case_message("Execution of prisoners of war", "AZ"),
    )
    .await;
    refused(
        cases
            .update_case(pb::UpdateCaseRequest {
                case_id: case.id.clone(),
                etag: String::new(),
                r#case: Some(pb::Case {
                    title: String::new(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["title".into(), "status".into(), "title".into()],
                }),
                reason: String::new(),
            })
            .await,
        &[
            "etag",
            "update_mask.paths[1]",
            "update_mask.paths[2]",
            "case.title",
        ],
    );
    refused(
        cases
            .update_case(pb::UpdateCaseRequest {
                case_id: case.id.clone(),
                etag: case.etag.clone(),
                r#case: None,
                update_mask: None,
                reason: String::new(),
            })
            .await,
        &["update_mask", "case"],
    );
    refused(
        cases
            .transition_case(pb::TransitionCaseRequest {
                case_id: case.id.clone(),
                etag: case.etag.clone(),
                target_status: pb::CaseStatus::Closed.into(),
                reason: pb::CloseReason::Merged.into(),
                note: String::new(),
                merged_into_case_id: case.id.clone(),
            })
            .await,
        &["merged_into_case_id"],
    );
    refused(
        cases
            .transition_case(pb::TransitionCaseRequest {
                case_id: case.id.clone(),
                etag: "not an etag".into(),
                target_status: pb::CaseStatus::UnderInvestigation.into(),
                reason: pb::CloseReason::NotACrime.into(),
                ..Default::default()
            })
            .await,
        &["etag", "reason"],
    );
    refused(
        cases
            .transition_case(pb::TransitionCaseRequest {
                case_id: case.id.clone(),
                etag: case.etag.clone(),
                target_status: pb::CaseStatus::Closed.into(),
                ..Default::default()
            })
            .await,
        &["reason"],
    );
    let mut prosecutor = app.cases_as(Role::Prosecutor).await;
    refused(
        prosecutor
            .qualify_case(pb::QualifyCaseRequest {
                case_id: case.id.clone(),
                etag: case.etag.clone(),
                add_crime_type_codes: Vec::new(),
                remove_crime_type_codes: Vec::new(),
            })
            .await,
        &["add_crime_type_codes"],
    );
    let after = cases
        .get_case(pb::GetCaseRequest {
            case_id: case.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(after, case, "nothing was written");
    app.stop().await;
}

async fn bad_persons_charges_and_assessments_are_refused_field_by_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let case = open(&mut cases, case_message("Defilement of bodies", "AM")).await;
    refused(
        cases
            .add_person(pb::AddPersonRequest {
                case_id: case.id.clone(),
                etag: String::new(),
                person: Some(pb::Person {
                    role: pb::PersonRole::Suspect.into(),
                    display_name: " ".into(),
                    affiliation_party_code: "am".into(),
                    pseudonym: "W-1".into(),
                    ..Default::default()
                }),
            })
            .await,
        &[
            "person.pseudonym",
            "person.affiliation_party_code",
            "person.mode_of_liability",
            "person.display_name",
        ],
    );
    refused(
        cases
            .add_person(pb::AddPersonRequest {
                case_id: "x".into(),
                etag: String::new(),
                person: Some(pb::Person {
                    id: "someone".into(),
                    display_name: "A name".into(),
                    ..Default::default()
                }),
            })
            .await,
        &["case_id", "person.role", "person.display_name", "person.id"],
    );
    refused(
        cases
            .update_person(pb::UpdatePersonRequest {
                case_id: case.id.clone(),
                etag: String::new(),
                person: Some(pb::Person {
                    role: pb::PersonRole::Witness.into(),
                    display_name: "New name".into(),
                    protective_measures: vec![0],
                    ..Default::default()
                }),
            })
            .await,
        &[
            "person.id",
            "person.display_name",
            "person.protective_measures[0]",
        ],
    );
    refused(
        cases
            .list_persons(pb::ListPersonsRequest {
                case_id: String::new(),
                role: 9,
                ..Default::default()
            })
            .await,
        &["case_id", "role"],
    );
    let mut prosecutor = app.cases_as(Role::Prosecutor).await;
    refused(
        prosecutor
            .file_charge(pb::FileChargeRequest {
                case_id: case.id.clone(),
                etag: String::new(),
                person_id: String::new(),
                crime_type_code: "Article 116".into(),
                in_absentia: true,
                filed_date: "2999-01-01".into(),
            })
            .await,
        &["person_id", "crime_type_code", "filed_date"],
    );
    refused(
        prosecutor
            .update_charge_status(pb::UpdateChargeStatusRequest {
                case_id: case.id.clone(),
                etag: String::new(),
                charge_id: "c".into(),
                status: 0,
            })
            .await,
        &["charge_id", "status"],
    );
    refused(
        cases.list_charges(pb::ListChargesRequest::default()).await,
        &["case_id"],
    );
    refused(
        cases
            .link_evidence(pb::LinkEvidenceRequest {
                case_id: case.id.clone(),
                etag: String::new(),
                evidence_id: "video-1".into(),
                description: String::new(),
                reason: String::new(),
            })
            .await,
        &["evidence_id", "description"],
    );
    refused(
        cases
            .list_evidence(pb::ListEvidenceRequest::default())
            .await,
        &["case_id"],
    );
    let mut analyst = app.cases_as(Role::Analyst).await;
    refused(
        analyst
            .record_assessment(pb::RecordAssessmentRequest {
                case_id: case.id.clone(),
                etag: String::new(),
                assessment: Some(pb::Assessment {
                    evidence_id: String::new(),
                    verdict: 0,
                    method: 17,
                    examiner: String::new(),
                    findings: " ".into(),
                    ..Default::default()
                }),
            })
            .await,
        &[
            "assessment.evidence_id",
            "assessment.verdict",
            "assessment.method",
            "assessment.examiner",
            "assessment.findings",
        ],
    );
    refused(
        analyst
            .list_assessments(pb::ListAssessmentsRequest {
                case_id: case.id.clone(),
                evidence_id: "v".into(),
                ..Default::default()
            })
            .await,
        &["evidence_id"],
    );
    let persons = cases
        .list_persons(pb::ListPersonsRequest {
            case_id: case.id.clone(),
            role: 0,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(persons.persons.is_empty(), "nothing was written");
    app.stop().await;
}
