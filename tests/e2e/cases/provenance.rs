//! A `service` token alone opens no case: case management asks intake for every allegation
//! delivered, and refuses, writing nothing, one intake does not hold, one it has not accepted,
//! and one whose content is not what intake holds — while true deliveries still arrive.

use docket_e2e::{Backend, CaseClient, TestApp, accept_new, cases_of, held_by_intake, snapshot};
use docket_e2e::{allegation, on_every_backend, submit};
use docket_platform::auth::Role;
use docket_proto::docket::audit::v1 as audit;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use tonic::Code;

on_every_backend!(
    a_forged_allegation_with_a_service_token_opens_no_case,
    an_allegation_intake_never_accepted_opens_no_case,
    an_altered_allegation_is_refused_and_the_true_one_opens_the_case,
);

async fn deliver(
    app: &TestApp,
    allegation: pb::AllegationSnapshot,
) -> Result<pb::ReceiveAllegationResponse, tonic::Status> {
    app.cases_as(Role::Service)
        .await
        .receive_allegation(pb::ReceiveAllegationRequest {
            allegation: Some(allegation),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Every case, and the number of entries in case management's audit chain.
async fn what_is_written(app: &TestApp, cases: &mut CaseClient) -> (Vec<pb::Case>, i64) {
    let listed = cases
        .list_cases(pb::ListCasesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .cases;
    let chain = app
        .audit_as(app.case_management_addr, Role::Auditor)
        .await
        .verify_audit_chain(audit::VerifyAuditChainRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(chain.intact);
    (listed, chain.entries_checked)
}

async fn a_forged_allegation_with_a_service_token_opens_no_case(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let before = what_is_written(&app, &mut cases).await;

    // Well-formed, signed with a valid service token, and invented: intake never saw it.
    let refused = deliver(&app, snapshot(1)).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    assert!(
        refused.message().contains("intake holds no allegation"),
        "{}",
        refused.message()
    );
    assert_eq!(what_is_written(&app, &mut cases).await, before);
    app.stop().await;
}

async fn an_allegation_intake_never_accepted_opens_no_case(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let id = submit(&mut app.intake().await, allegation()).await;
    let before = what_is_written(&app, &mut cases).await;

    // Its snapshot exactly as intake holds it, delivered before any officer accepted it.
    let refused = deliver(&app, held_by_intake(&app, &id).await)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused.message().contains("not accepted"),
        "{}",
        refused.message()
    );
    assert_eq!(what_is_written(&app, &mut cases).await, before);
    app.stop().await;
}

async fn an_altered_allegation_is_refused_and_the_true_one_opens_the_case(backend: Backend) {
    let Some(mut app) = TestApp::spawn(backend).await else {
        return;
    };
    // Accepted while case management is down: the true delivery waits in intake's outbox, and
    // the altered copy can arrive first.
    app.stop_case_management().await;
    let id = accept_new(&mut app.intake().await).await;
    let truth = held_by_intake(&app, &id).await;
    app.start_case_management().await;
    let mut inflated = truth.clone();
    inflated.victims[0].count = 200;
    inflated.alleged_perpetrators[0].party_code = "AZ".into();

    let refused = deliver(&app, inflated).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    for field in ["allegation.victims", "allegation.alleged_perpetrators"] {
        assert!(
            refused.message().contains(field),
            "the refusal names {field}: {}",
            refused.message()
        );
    }
    // The true delivery arrives and the case holds what intake holds.
    let [case] = cases_of(&mut app.cases().await, &id)
        .await
        .try_into()
        .unwrap();
    assert_eq!(case.victims, truth.victims);
    assert_eq!(case.party_codes, ["AM"]);
    let victims: i32 = case.victims.iter().map(|group| group.count).sum();
    assert_eq!(victims, 3);
    // A copy that differs only in where it happened is refused as well, and changes nothing.
    let mut moved = truth.clone();
    moved.location = Some(common::Location {
        place_name: "Stepanakert".into(),
        ..truth.location.clone().unwrap()
    });
    let refused = deliver(&app, moved).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("allegation.location"));
    assert_eq!(
        deliver(&app, truth).await.unwrap().r#case.unwrap(),
        case,
        "the true delivery, repeated, still answers with its case"
    );
    app.stop().await;
}
