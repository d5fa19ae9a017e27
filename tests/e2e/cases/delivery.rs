//! Allegations delivered by intake: one case each, exactly once, and duplicates linked to their
//! original's case without counting their victims twice. Every delivery here is a true one
//! (accepted in intake); `provenance` shows that no other is believed.

use docket_e2e::{
    Backend, TestApp, accept, allegation, deliver, held_by_intake, on_every_backend, snapshot,
    submit, triaged,
};
use std::num::NonZeroU64;
use std::time::Duration;

use docket_intake::DISPATCH_LEASE;
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use sea_orm::{ConnectionTrait, Database};
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
    let (allegation, case) = deliver(&app, snapshot(42)).await;
    assert!(case.reference.starts_with("CASE-") && case.reference.ends_with("-000001"));
    assert_eq!(case.status(), pb::CaseStatus::Open);
    assert_eq!(case.allegation_ids, std::slice::from_ref(&allegation.id));
    assert_eq!(case.party_codes, ["AM"]);
    assert_eq!(case.violation_types, allegation.violation_types);
    assert_eq!(case.victims, allegation.victims);
    assert_eq!(case.location, allegation.location);
    assert_eq!(case.incident_period, allegation.incident_period);
    assert_eq!(case.title, format!("Allegation {}", allegation.reference));

    // The dispatcher delivers again whenever it is not sure an earlier delivery arrived.
    let mut dispatcher = app.cases_as(Role::Service).await;
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
        .receive_allegation(receive(allegation))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    app.stop().await;
}

async fn a_duplicate_joins_its_originals_case_without_adding_victims(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (original, case) = deliver(&app, snapshot(1)).await;
    assert_eq!(casualties(&case), 3);

    // A second report of the same shelling, with its own (overlapping) count of the dead.
    let mut second = snapshot(2);
    second.duplicate_of_id = original.id.clone();
    let (duplicate, linked_case) = deliver(&app, second).await;
    assert_eq!(linked_case.id, case.id);
    let mut dispatcher = app.cases_as(Role::Service).await;
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

/// Intake's dispatcher kept from running: its lease held, far into the future, by no replica.
async fn hold_the_dispatchers_lease(app: &TestApp, until_ms: i64) {
    let db = Database::connect(app.settings.database_url(ServiceKind::Intake))
        .await
        .unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO leases (name, holder, incarnation, expires_at_ms) \
         VALUES ('{DISPATCH_LEASE}', 'elsewhere', 'elsewhere', {until_ms}) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
         incarnation = excluded.incarnation, expires_at_ms = excluded.expires_at_ms"
    ))
    .await
    .unwrap();
    db.close().await.unwrap();
}

async fn a_duplicate_of_an_allegation_in_no_case_waits_for_its_original(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        settings.leases.ttl_seconds = NonZeroU64::new(1).unwrap();
    })
    .await
    else {
        return;
    };
    // Intake's deliveries wait (its dispatcher sees its lease taken within a third of the TTL):
    // the original is accepted but not yet delivered, so it is in no case.
    hold_the_dispatchers_lease(&app, i64::MAX / 2).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let mut intake = app.intake().await;
    let original = submit(&mut intake, allegation()).await;
    accept(&mut intake, &original).await;
    let mut second = snapshot(7);
    second.duplicate_of_id = original.clone();
    let duplicate_id = triaged(&app, second).await;
    let duplicate = held_by_intake(&app, &duplicate_id).await;

    let mut dispatcher = app.cases_as(Role::Service).await;
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

    // Once the original is delivered, the duplicate's next delivery joins it.
    let case = dispatcher
        .receive_allegation(receive(held_by_intake(&app, &original).await))
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let linked = dispatcher
        .receive_allegation(receive(duplicate))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(linked.r#case.unwrap().id, case.id);
    hold_the_dispatchers_lease(&app, 0).await;
    app.stop().await;
}
