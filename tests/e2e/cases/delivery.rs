//! Allegations delivered by intake: one case each, exactly once, and duplicates linked to their
//! original's case without counting their victims twice.

use docket_e2e::{Backend, TestApp, on_every_backend, snapshot};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use tonic::Code;

use super::casualties;

on_every_backend!(
    an_allegation_opens_one_case_however_often_it_is_delivered,
    a_duplicate_joins_its_originals_case_without_adding_victims,
    a_duplicate_of_an_allegation_in_no_case_waits_for_its_original,
);

fn receive(allegation: pb::AllegationSnapshot) -> pb::ReceiveAllegationRequest {
    pb::ReceiveAllegationRequest {
        allegation: Some(allegation),
    }
}

async fn an_allegation_opens_one_case_however_often_it_is_delivered(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut dispatcher = app.cases_as(Role::Service).await;
    let allegation = snapshot(42);
    let first = dispatcher
        .receive_allegation(receive(allegation.clone()))
        .await
        .unwrap()
        .into_inner();
    assert!(first.created && !first.linked_as_duplicate);
    let case = first.r#case.unwrap();
    assert!(case.reference.starts_with("CASE-") && case.reference.ends_with("-000001"));
    assert_eq!(case.status(), pb::CaseStatus::Open);
    assert_eq!(case.allegation_ids, std::slice::from_ref(&allegation.id));
    assert_eq!(case.party_codes, ["AM"]);
    assert_eq!(case.violation_types, allegation.violation_types);
    assert_eq!(case.victims, allegation.victims);
    assert_eq!(case.location, allegation.location);
    assert_eq!(case.incident_period, allegation.incident_period);
    assert_eq!(case.title, "Allegation ALG-2020-000042");

    for _ in 0..3 {
        let again = dispatcher
            .receive_allegation(receive(allegation.clone()))
            .await
            .unwrap()
            .into_inner();
        assert!(!again.created, "a repeated delivery creates nothing");
        assert_eq!(again.r#case.unwrap().id, case.id);
    }
    let listed = dispatcher
        .list_cases(pb::ListCasesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.cases.len(), 1);

    // Only intake's dispatcher delivers.
    let refused = app
        .cases()
        .await
        .receive_allegation(receive(snapshot(43)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    app.stop().await;
}

async fn a_duplicate_joins_its_originals_case_without_adding_victims(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut dispatcher = app.cases_as(Role::Service).await;
    let original = snapshot(1);
    let case = dispatcher
        .receive_allegation(receive(original.clone()))
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(casualties(&case), 3);

    // A second report of the same shelling, with its own (overlapping) count of the dead.
    let mut duplicate = snapshot(2);
    duplicate.duplicate_of_id = original.id.clone();
    for _ in 0..2 {
        let linked = dispatcher
            .receive_allegation(receive(duplicate.clone()))
            .await
            .unwrap()
            .into_inner();
        assert!(linked.linked_as_duplicate);
        let linked_case = linked.r#case.unwrap();
        assert_eq!(linked_case.id, case.id);
        assert_eq!(
            linked_case.allegation_ids,
            [original.id.clone(), duplicate.id.clone()]
        );
        assert_eq!(casualties(&linked_case), 3, "the victims are counted once");
    }
    let by_duplicate = dispatcher
        .list_cases(pb::ListCasesRequest {
            allegation_id: duplicate.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_duplicate.cases.len(), 1);
    assert_eq!(by_duplicate.cases[0].id, case.id);
    let all = dispatcher
        .list_cases(pb::ListCasesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.cases.len(), 1, "no second case was opened");
    app.stop().await;
}

async fn a_duplicate_of_an_allegation_in_no_case_waits_for_its_original(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut dispatcher = app.cases_as(Role::Service).await;
    let mut duplicate = snapshot(7);
    duplicate.duplicate_of_id = uuid::Uuid::now_v7().to_string();
    let early = dispatcher
        .receive_allegation(receive(duplicate.clone()))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert!(
        early.message().contains("deliver the original first"),
        "{}",
        early.message()
    );
    let none = dispatcher
        .list_cases(pb::ListCasesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(none.cases.is_empty(), "nothing was written");
    app.stop().await;
}
