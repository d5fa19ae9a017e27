//! From intake to case management: accepted allegations become cases through the outbox,
//! late while case management is down, but never lost and never twice.

use std::time::Duration;

use docket_e2e::{
    Backend, TestApp, accept_new, allegation, cases_of, on_every_backend, submit_request,
};
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as pb;

on_every_backend!(
    an_accepted_allegation_opens_a_case,
    while_case_management_is_down_acceptances_wait_then_arrive_once_each,
);

async fn an_accepted_allegation_opens_a_case(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let mut cases = app.cases().await;
    let id = accept_new(&mut intake).await;
    let found = cases_of(&mut cases, &id).await;
    assert_eq!(found.len(), 1, "one case for the accepted allegation");
    let case = &found[0];
    assert_eq!(case.allegation_ids, vec![id.clone()]);
    assert_eq!(case.party_codes, ["AM"]);
    let killed: i32 = case.victims.iter().map(|g| g.count).sum();
    assert_eq!(killed, 3, "the allegation's victims are the case's");
    app.stop().await;
}

async fn while_case_management_is_down_acceptances_wait_then_arrive_once_each(backend: Backend) {
    let Some(mut app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    app.stop_case_management().await;
    let mut accepted = Vec::new();
    for _ in 0..3 {
        accepted.push(accept_new(&mut intake).await);
    }
    // A duplicate of the first, reported by another source: linked, not counted again.
    let duplicate = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
        .id;
    intake
        .mark_duplicate(pb::MarkDuplicateRequest {
            id: duplicate.clone(),
            duplicate_of_id: accepted[0].clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Let the dispatcher fail a few times against the stopped service.
    tokio::time::sleep(Duration::from_millis(600)).await;

    app.start_case_management().await;
    let mut cases = app.cases().await;
    for id in &accepted {
        let found = cases_of(&mut cases, id).await;
        assert_eq!(found.len(), 1, "allegation {id} is in exactly one case");
    }
    let original = cases_of(&mut cases, &accepted[0]).await.remove(0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let linked = loop {
        let case = cases
            .get_case(cases::GetCaseRequest {
                case_id: original.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .case
            .unwrap();
        if case.allegation_ids.contains(&duplicate) || tokio::time::Instant::now() > deadline {
            break case;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        linked.allegation_ids.contains(&duplicate),
        "the duplicate joins its original's case"
    );
    assert_eq!(
        linked.victims, original.victims,
        "its victims are not added again"
    );
    let all = cases
        .list_cases(cases::ListCasesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .cases;
    assert_eq!(all.len(), 3, "three cases, no more");
    app.stop().await;
}
