//! The audit log: an entry for every change, in the same transaction, hash-chained so that any
//! row altered, removed or moved behind the service's back is found.

use docket_e2e::{Backend, Bearer, TestApp, allegation, on_every_backend, submit_request};
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_proto::docket::audit::v1 as audit;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::{ConnectionTrait, Database};

on_every_backend!(
    every_change_is_audited_with_who_what_and_the_request_id,
    an_altered_entry_is_found,
    a_removed_entry_is_found,
    reordered_entries_are_found,
    entries_removed_from_the_end_are_found,
    a_refused_change_leaves_no_entry,
    calls_a_role_may_not_make_are_audited_counted_per_caller_method_and_minute,
);

/// Four changes: a submission, a review, a second submission and its rejection.
async fn four_changes(app: &TestApp) -> (String, String) {
    let mut intake = app.intake().await;
    let first = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap();
    let first = first.into_inner().allegation.unwrap().id;
    intake
        .start_review(pb::StartReviewRequest { id: first.clone() })
        .await
        .unwrap();
    let second = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap();
    let second = second.into_inner().allegation.unwrap().id;
    intake
        .reject_allegation(pb::RejectAllegationRequest {
            id: second.clone(),
            reason: "The video predates the conflict.".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    (first, second)
}

async fn verify(app: &TestApp) -> audit::VerifyAuditChainResponse {
    let mut auditor = app.audit_as(app.intake_addr, Role::Auditor).await;
    auditor
        .verify_audit_chain(audit::VerifyAuditChainRequest {})
        .await
        .unwrap()
        .into_inner()
}

/// Runs `statements` against the intake database behind the service's back.
async fn tamper(app: &TestApp, statements: &[&str]) {
    let db = Database::connect(app.settings.database_url(ServiceKind::Intake))
        .await
        .unwrap();
    for statement in statements {
        db.execute_unprepared(statement).await.unwrap();
    }
    db.close().await.unwrap();
}

async fn every_change_is_audited_with_who_what_and_the_request_id(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (first, second) = four_changes(&app).await;
    let mut supervisor = app.audit_as(app.intake_addr, Role::Supervisor).await;
    let entries = supervisor
        .list_audit_entries(audit::ListAuditEntriesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    let summary: Vec<(i64, &str, &str, Vec<String>)> = entries
        .iter()
        .map(|e| {
            (
                e.sequence,
                e.action.as_str(),
                e.method.as_str(),
                e.target_ids.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                1,
                "submit allegation",
                "/docket.intake.v1.IntakeService/SubmitAllegation",
                vec![first.clone()]
            ),
            (
                2,
                "start review",
                "/docket.intake.v1.IntakeService/StartReview",
                vec![first.clone()]
            ),
            (
                3,
                "submit allegation",
                "/docket.intake.v1.IntakeService/SubmitAllegation",
                vec![second.clone()]
            ),
            (
                4,
                "reject allegation",
                "/docket.intake.v1.IntakeService/RejectAllegation",
                vec![second.clone()]
            ),
        ]
    );
    for entry in &entries {
        assert_eq!(
            (entry.subject.as_str(), entry.role.as_str()),
            ("officer.aliyev", "intake_officer")
        );
        assert_eq!(entry.outcome, "OK");
        assert!(
            uuid::Uuid::parse_str(&entry.request_id).is_ok(),
            "{}",
            entry.request_id
        );
        assert_eq!(entry.entry_hash.len(), 64);
    }
    assert_eq!(entries[1].previous_hash, entries[0].entry_hash);

    // Filters and pages.
    let about_second = supervisor
        .list_audit_entries(audit::ListAuditEntriesRequest {
            target_id: second.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(
        about_second.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [3, 4]
    );
    let page = supervisor
        .list_audit_entries(audit::ListAuditEntriesRequest {
            page_size: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.entries.len(), 3);
    let rest = supervisor
        .list_audit_entries(audit::ListAuditEntriesRequest {
            page_size: 3,
            page_token: page.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        rest.entries.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [4]
    );
    assert!(rest.next_page_token.is_empty());

    let verdict = verify(&app).await;
    assert!(verdict.intact, "{verdict:?}");
    assert_eq!(verdict.entries_checked, 4);
    assert_eq!(verdict.head_hash, entries[3].entry_hash);
    app.stop().await;
}

async fn an_altered_entry_is_found(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    four_changes(&app).await;
    tamper(
        &app,
        &["UPDATE audit_entries SET subject = 'nobody' WHERE sequence = 2"],
    )
    .await;
    let verdict = verify(&app).await;
    assert!(!verdict.intact);
    assert_eq!(verdict.first_broken_sequence, 2);
    assert!(verdict.problem.contains("altered"), "{}", verdict.problem);
    app.stop().await;
}

async fn a_removed_entry_is_found(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    four_changes(&app).await;
    tamper(&app, &["DELETE FROM audit_entries WHERE sequence = 3"]).await;
    let verdict = verify(&app).await;
    assert!(!verdict.intact);
    assert_eq!(verdict.first_broken_sequence, 3);
    assert!(verdict.problem.contains("missing"), "{}", verdict.problem);
    app.stop().await;
}

async fn reordered_entries_are_found(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    four_changes(&app).await;
    tamper(
        &app,
        &[
            "UPDATE audit_entries SET sequence = -2 WHERE sequence = 2",
            "UPDATE audit_entries SET sequence = 2 WHERE sequence = 3",
            "UPDATE audit_entries SET sequence = 3 WHERE sequence = -2",
        ],
    )
    .await;
    let verdict = verify(&app).await;
    assert!(!verdict.intact);
    assert_eq!(verdict.first_broken_sequence, 2);
    app.stop().await;
}

async fn entries_removed_from_the_end_are_found(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    four_changes(&app).await;
    tamper(&app, &["DELETE FROM audit_entries WHERE sequence = 4"]).await;
    let verdict = verify(&app).await;
    assert!(!verdict.intact);
    assert_eq!(verdict.first_broken_sequence, 4);
    assert!(
        verdict.problem.contains("removed from the end"),
        "{}",
        verdict.problem
    );
    app.stop().await;
}

async fn a_refused_change_leaves_no_entry(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (first, _) = four_changes(&app).await;
    let mut intake = app.intake().await;
    // Refused: the allegation is under review, not received.
    intake
        .start_review(pb::StartReviewRequest { id: first })
        .await
        .unwrap_err();
    let mut bad = allegation();
    bad.narrative.clear();
    intake
        .submit_allegation(submit_request(bad))
        .await
        .unwrap_err();
    let verdict = verify(&app).await;
    assert!(verdict.intact);
    assert_eq!(
        verdict.entries_checked, 4,
        "no entry for what did not happen"
    );
    app.stop().await;
}

async fn calls_a_role_may_not_make_are_audited_counted_per_caller_method_and_minute(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // An analyst with a valid token probes what only officers may do, again and again.
    let mut analyst = app.intake_as(Role::Analyst).await;
    for _ in 0..40 {
        let refused = analyst
            .submit_allegation(submit_request(allegation()))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    }
    for _ in 0..5 {
        analyst
            .reject_allegation(pb::RejectAllegationRequest {
                id: uuid::Uuid::now_v7().to_string(),
                reason: "probing".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
    }
    // Calls without a valid token say nothing about anyone: not in the chain.
    let mut stranger = app.intake_with(Bearer::token("not-a-token")).await;
    for _ in 0..10 {
        stranger
            .submit_allegation(submit_request(allegation()))
            .await
            .unwrap_err();
    }
    // What was counted is written when the minute ends, or when the service stops.
    let app = app.restart().await;
    let mut auditor = app.audit_as(app.intake_addr, Role::Auditor).await;
    let entries = auditor
        .list_audit_entries(audit::ListAuditEntriesRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let refused: Vec<_> = entries.iter().filter(|e| e.outcome != "OK").collect();
    assert_eq!(
        refused.len(),
        2,
        "one entry per caller and method: {refused:#?}"
    );
    let submit = refused
        .iter()
        .find(|e| e.method == "/docket.intake.v1.IntakeService/SubmitAllegation")
        .expect("the refused submissions");
    assert_eq!(submit.outcome, "PERMISSION_DENIED");
    assert_eq!(
        (submit.subject.as_str(), submit.role.as_str()),
        ("analyst", "analyst")
    );
    assert_eq!(submit.count, 40);
    assert!(
        submit.action.contains("refused 40 calls"),
        "{}",
        submit.action
    );
    let reject = refused
        .iter()
        .find(|e| e.method == "/docket.intake.v1.IntakeService/RejectAllegation")
        .expect("the refused rejections");
    assert_eq!(reject.count, 5);
    assert!(
        entries
            .iter()
            .all(|e| e.count == 1 || e.outcome == "PERMISSION_DENIED"),
        "only refusals are counted together"
    );
    let verdict = verify(&app).await;
    assert!(verdict.intact, "{}", verdict.problem);

    // The count is part of the entry's hash.
    tamper(
        &app,
        &["UPDATE audit_entries SET count = 1 WHERE outcome = 'PERMISSION_DENIED'"],
    )
    .await;
    let verdict = verify(&app).await;
    assert!(!verdict.intact, "a count rewritten is found");
    app.stop().await;
}
