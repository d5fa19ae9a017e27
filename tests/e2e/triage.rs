//! Triage: review, acceptance, rejection, duplicates, and the moves that are refused.

use docket_e2e::{Backend, IntakeClient, TestApp, allegation, on_every_backend, submit_request};
use docket_proto::docket::intake::v1 as pb;
use tonic::Code;

on_every_backend!(
    a_review_records_the_officer_and_acceptance_follows,
    a_rejection_keeps_its_reason,
    a_duplicate_points_to_its_original,
    a_decided_allegation_cannot_be_triaged_again,
    a_duplicate_of_a_duplicate_is_refused,
    a_duplicate_of_an_allegation_not_accepted_is_refused,
    unknown_allegations_are_not_found,
    of_two_concurrent_decisions_exactly_one_wins,
);

async fn submit(intake: &mut IntakeClient) -> String {
    let answer = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap();
    answer.into_inner().allegation.unwrap().id
}

/// Submits and accepts an allegation: an original others can duplicate.
async fn accepted(intake: &mut IntakeClient) -> String {
    let id = submit(intake).await;
    intake
        .accept_allegation(pb::AcceptAllegationRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    id
}

async fn a_review_records_the_officer_and_acceptance_follows(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let id = submit(&mut intake).await;
    let reviewed = intake
        .start_review(pb::StartReviewRequest { id: id.clone() })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(reviewed.status(), pb::AllegationStatus::UnderReview);
    assert_eq!(reviewed.reviewed_by, "officer.aliyev");
    let (changed, received) = (
        reviewed.status_changed_at.unwrap(),
        reviewed.received_at.unwrap(),
    );
    assert!((changed.seconds, changed.nanos) > (received.seconds, received.nanos));

    let accepted = intake
        .accept_allegation(pb::AcceptAllegationRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(accepted.status(), pb::AllegationStatus::Accepted);
    assert_eq!(accepted.reviewed_by, "officer.aliyev");
    app.stop().await;
}

async fn a_rejection_keeps_its_reason(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let id = submit(&mut intake).await;
    let rejected = intake
        .reject_allegation(pb::RejectAllegationRequest {
            id: id.clone(),
            reason: "The footage predates the conflict (reverse image search).".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(rejected.status(), pb::AllegationStatus::Rejected);
    assert_eq!(
        rejected.rejection_reason,
        "The footage predates the conflict (reverse image search)."
    );
    app.stop().await;
}

async fn a_duplicate_points_to_its_original(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let original = accepted(&mut intake).await;
    let copy = submit(&mut intake).await;
    let marked = intake
        .mark_duplicate(pb::MarkDuplicateRequest {
            id: copy.clone(),
            duplicate_of_id: original.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(marked.status(), pb::AllegationStatus::Duplicate);
    assert_eq!(marked.duplicate_of_id, original);
    app.stop().await;
}

async fn a_decided_allegation_cannot_be_triaged_again(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let id = submit(&mut intake).await;
    intake
        .accept_allegation(pb::AcceptAllegationRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let refusals = [
        intake
            .reject_allegation(pb::RejectAllegationRequest {
                id: id.clone(),
                reason: "late".into(),
                ..Default::default()
            })
            .await
            .unwrap_err(),
        intake
            .accept_allegation(pb::AcceptAllegationRequest {
                id: id.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err(),
        intake
            .start_review(pb::StartReviewRequest { id: id.clone() })
            .await
            .unwrap_err(),
    ];
    for status in refusals {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(
            status.message().contains("accepted"),
            "{}",
            status.message()
        );
    }
    // And nothing changed.
    let still = intake
        .get_allegation(pb::GetAllegationRequest { id })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(still.status(), pb::AllegationStatus::Accepted);
    assert!(still.rejection_reason.is_empty());
    app.stop().await;
}

async fn a_duplicate_of_a_duplicate_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let original = accepted(&mut intake).await;
    let copy = submit(&mut intake).await;
    let third = submit(&mut intake).await;
    intake
        .mark_duplicate(pb::MarkDuplicateRequest {
            id: copy.clone(),
            duplicate_of_id: original.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let status = intake
        .mark_duplicate(pb::MarkDuplicateRequest {
            id: third,
            duplicate_of_id: copy,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains(&original), "{}", status.message());
    app.stop().await;
}

/// Its delivery would wait forever for a case the original never gets: refused at once.
async fn a_duplicate_of_an_allegation_not_accepted_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let pending = submit(&mut intake).await;
    let rejected = submit(&mut intake).await;
    intake
        .reject_allegation(pb::RejectAllegationRequest {
            id: rejected.clone(),
            reason: "The video predates the conflict.".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let copy = submit(&mut intake).await;
    for original in [pending, rejected] {
        let status = intake
            .mark_duplicate(pb::MarkDuplicateRequest {
                id: copy.clone(),
                duplicate_of_id: original.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(
            status.message().contains("not accepted"),
            "{}",
            status.message()
        );
    }
    let unchanged = intake
        .get_allegation(pb::GetAllegationRequest { id: copy })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(unchanged.status(), pb::AllegationStatus::Received);
    assert!(unchanged.duplicate_of_id.is_empty());
    app.stop().await;
}

async fn unknown_allegations_are_not_found(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let status = intake
        .get_allegation(pb::GetAllegationRequest {
            id: unknown.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = intake
        .accept_allegation(pb::AcceptAllegationRequest {
            id: unknown.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let id = submit(&mut intake).await;
    let status = intake
        .mark_duplicate(pb::MarkDuplicateRequest {
            id,
            duplicate_of_id: unknown,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    app.stop().await;
}

async fn of_two_concurrent_decisions_exactly_one_wins(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    for _ in 0..5 {
        let id = submit(&mut intake).await;
        let (mut a, mut b) = (intake.clone(), intake.clone());
        let accept = a.accept_allegation(pb::AcceptAllegationRequest {
            id: id.clone(),
            ..Default::default()
        });
        let reject = b.reject_allegation(pb::RejectAllegationRequest {
            id: id.clone(),
            reason: "not credible".into(),
            ..Default::default()
        });
        let (accepted, rejected) = tokio::join!(accept, reject);
        assert!(
            accepted.is_ok() != rejected.is_ok(),
            "exactly one decision must win: {accepted:?} / {rejected:?}"
        );
        let loser = accepted.err().or(rejected.err()).unwrap();
        assert_eq!(loser.code(), Code::FailedPrecondition);
    }
    app.stop().await;
}
