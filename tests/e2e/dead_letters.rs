//! Deliveries that cannot succeed end as dead letters, visible to a supervisor who retries or
//! drops them, instead of being sent again every 30 s forever.

use std::num::NonZeroU32;
use std::time::Duration;

use docket_e2e::{Backend, TestApp, accept_new, cases_of, field_violations, on_every_backend};
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_proto::docket::audit::v1 as audit;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::{ConnectionTrait, Database};
use tonic::Code;

on_every_backend!(
    a_delivery_that_keeps_failing_becomes_a_dead_letter_a_supervisor_retries,
    a_refused_delivery_becomes_a_dead_letter_a_supervisor_drops,
);

async fn with_few_attempts(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |settings| {
        settings.outbox.max_attempts = NonZeroU32::new(4).unwrap();
        settings.outbox.max_refused_attempts = NonZeroU32::new(2).unwrap();
    })
    .await
}

/// The dead letters once there are `count` (or after 20 s: fails).
async fn dead_letters(app: &TestApp, count: usize) -> Vec<pb::DeadLetter> {
    let mut supervisor = app.intake_as(Role::Supervisor).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let letters = supervisor
            .list_dead_letters(pb::ListDeadLettersRequest::default())
            .await
            .unwrap()
            .into_inner()
            .dead_letters;
        if letters.len() == count {
            return letters;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} dead letters, not {count}: {letters:#?}",
            letters.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The audit entries of intake's `method`.
async fn audited(app: &TestApp, method: &str) -> Vec<audit::AuditEntry> {
    app.audit_as(app.intake_addr, Role::Auditor)
        .await
        .list_audit_entries(audit::ListAuditEntriesRequest {
            method: format!("/docket.intake.v1.IntakeService/{method}"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries
}

async fn a_delivery_that_keeps_failing_becomes_a_dead_letter_a_supervisor_retries(
    backend: Backend,
) {
    let Some(mut app) = with_few_attempts(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    app.stop_case_management().await;
    let id = accept_new(&mut intake).await;
    let [letter] = <[pb::DeadLetter; 1]>::try_from(dead_letters(&app, 1).await).unwrap();
    assert_eq!(letter.allegation_id, id);
    assert!(letter.allegation_reference.starts_with("ALG-"));
    assert_eq!(letter.attempts, 4);
    assert!(
        letter.last_error.contains("Unavailable"),
        "{}",
        letter.last_error
    );

    // Given up: case management is back, and nothing is sent until a supervisor says so.
    app.start_case_management().await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        dead_letters(&app, 1).await[0].attempts,
        4,
        "not tried again"
    );
    let mut investigator = app.cases().await;
    let none = investigator
        .list_cases(cases::ListCasesRequest {
            allegation_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .cases;
    assert!(none.is_empty());

    // Only supervisors decide; a bad id is INVALID_ARGUMENT, an unknown one NOT_FOUND.
    let refused = intake
        .retry_dead_letter(pb::RetryDeadLetterRequest {
            id: letter.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let mut supervisor = app.intake_as(Role::Supervisor).await;
    let bad = supervisor
        .retry_dead_letter(pb::RetryDeadLetterRequest { id: "x".into() })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&bad), ["id"]);
    let unknown = supervisor
        .retry_dead_letter(pb::RetryDeadLetterRequest {
            id: uuid::Uuid::now_v7().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let retried = supervisor
        .retry_dead_letter(pb::RetryDeadLetterRequest {
            id: letter.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .dead_letter
        .unwrap();
    assert_eq!(retried.id, letter.id);
    assert_eq!(cases_of(&mut investigator, &id).await.len(), 1, "delivered");
    dead_letters(&app, 0).await;
    let entries = audited(&app, "RetryDeadLetter").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].subject, "supervisor");
    assert_eq!(entries[0].target_ids, [letter.id, id]);
    app.stop().await;
}

async fn a_refused_delivery_becomes_a_dead_letter_a_supervisor_drops(backend: Backend) {
    let Some(app) = with_few_attempts(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let original = accept_new(&mut intake).await;
    let mut investigator = app.cases().await;
    cases_of(&mut investigator, &original).await;
    // The original's case loses it (as if it had never been delivered): a duplicate's delivery
    // is refused with FAILED_PRECONDITION, and would be on every try.
    let db = Database::connect(app.settings.database_url(ServiceKind::CaseManagement))
        .await
        .unwrap();
    db.execute_unprepared("DELETE FROM case_allegations")
        .await
        .unwrap();
    db.close().await.unwrap();
    let copy = docket_e2e::submit(&mut intake, docket_e2e::allegation()).await;
    intake
        .mark_duplicate(pb::MarkDuplicateRequest {
            id: copy.clone(),
            duplicate_of_id: original,
            ..Default::default()
        })
        .await
        .unwrap();
    let [letter] = <[pb::DeadLetter; 1]>::try_from(dead_letters(&app, 1).await).unwrap();
    assert_eq!(letter.allegation_id, copy);
    assert_eq!(letter.attempts, 2, "refusals give up sooner");
    assert!(
        letter.last_error.contains("FailedPrecondition"),
        "{}",
        letter.last_error
    );

    let mut supervisor = app.intake_as(Role::Supervisor).await;
    let dropped = supervisor
        .drop_dead_letter(pb::DropDeadLetterRequest {
            id: letter.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .dead_letter
        .unwrap();
    assert_eq!(dropped.allegation_id, copy);
    dead_letters(&app, 0).await;
    let again = supervisor
        .drop_dead_letter(pb::DropDeadLetterRequest {
            id: letter.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
    let entries = audited(&app, "DropDeadLetter").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].target_ids, [letter.id, copy]);
    assert!(
        entries[0].action.contains("FailedPrecondition"),
        "{}",
        entries[0].action
    );
    app.stop().await;
}
