//! Submitting, reading and listing allegations.

use docket_e2e::{Backend, TestApp, allegation, on_every_backend, submit_request};
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use tonic::Code;

on_every_backend!(
    a_submission_is_registered_with_an_id_a_reference_and_its_content,
    an_anonymous_source_gets_a_receipt_and_a_retry_gets_the_same_one,
    a_retried_submission_returns_the_original_and_creates_nothing,
    a_request_id_reused_for_another_allegation_is_refused,
    references_are_numbered_without_gaps_under_concurrent_submissions,
    submissions_committed_together_succeed_or_fail_each_on_its_own,
    listing_pages_through_every_allegation_in_order,
    listing_filters_by_status_violation_type_party_and_time,
    a_page_token_is_refused_with_other_filters,
    nothing_is_lost_across_a_restart,
);

async fn a_submission_is_registered_with_an_id_a_reference_and_its_content(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let sent = allegation();
    let answer = intake
        .submit_allegation(submit_request(sent.clone()))
        .await
        .unwrap()
        .into_inner();
    let stored = answer.allegation.unwrap();

    let id = uuid::Uuid::parse_str(&stored.id).unwrap();
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    let year = chrono_year_now();
    assert_eq!(stored.reference, format!("ALG-{year}-000001"));
    assert_eq!(stored.status(), pb::AllegationStatus::Received);
    assert!(stored.received_at.is_some());
    assert_eq!(stored.status_changed_at, stored.received_at);
    assert!(
        answer.receipt.is_empty(),
        "identified sources get no receipt"
    );

    // Everything sent comes back as sent.
    let expected = pb::Allegation {
        id: stored.id.clone(),
        reference: stored.reference.clone(),
        status: stored.status,
        received_at: stored.received_at,
        status_changed_at: stored.status_changed_at,
        etag: stored.etag.clone(),
        ..sent
    };
    assert_eq!(stored, expected);
    assert!(
        !stored.etag.is_empty(),
        "an allegation has an etag from its receipt"
    );

    let fetched = intake
        .get_allegation(pb::GetAllegationRequest {
            id: stored.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(fetched, stored);
    app.stop().await;
}

async fn an_anonymous_source_gets_a_receipt_and_a_retry_gets_the_same_one(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let mut sent = allegation();
    sent.source = Some(pb::Source {
        anonymous: true,
        ..pb::Source::default()
    });
    let request = submit_request(sent);
    let first = intake
        .submit_allegation(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.receipt.len(), 39, "receipt {:?}", first.receipt);
    let retry = intake
        .submit_allegation(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retry.receipt, first.receipt);
    assert_eq!(retry.allegation, first.allegation);
    let source = first.allegation.unwrap().source.unwrap();
    assert!(source.anonymous && source.name.is_empty() && source.contact.is_empty());
    app.stop().await;
}

async fn a_retried_submission_returns_the_original_and_creates_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let request = submit_request(allegation());
    let first = intake
        .submit_allegation(request.clone())
        .await
        .unwrap()
        .into_inner();
    let second = intake
        .submit_allegation(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.allegation, second.allegation);
    assert_eq!(count(&app).await, 1);
    app.stop().await;
}

async fn a_request_id_reused_for_another_allegation_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let request = submit_request(allegation());
    intake.submit_allegation(request.clone()).await.unwrap();
    let mut other = request;
    other.allegation.as_mut().unwrap().narrative = "Another incident altogether.".into();
    let status = intake.submit_allegation(other).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(docket_e2e::field_violations(&status), ["request_id"]);
    assert_eq!(count(&app).await, 1);
    app.stop().await;
}

async fn references_are_numbered_without_gaps_under_concurrent_submissions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24 {
        let mut intake = app.intake().await;
        tasks.spawn(async move {
            let mut sent = allegation();
            if i % 4 == 0 {
                // Every fourth one is invalid: refused submissions must not use up numbers.
                sent.narrative.clear();
            }
            intake.submit_allegation(submit_request(sent)).await
        });
    }
    let mut references = Vec::new();
    while let Some(result) = tasks.join_next().await {
        if let Ok(answer) = result.unwrap() {
            references.push(answer.into_inner().allegation.unwrap().reference);
        }
    }
    references.sort();
    let year = chrono_year_now();
    let expected: Vec<String> = (1..=18).map(|n| format!("ALG-{year}-{n:06}")).collect();
    assert_eq!(references, expected);
    app.stop().await;
}

/// Concurrent submissions are committed in batches: retries, a reused request id and new
/// submissions arriving together each get their own answer, and nothing refused uses a number.
async fn submissions_committed_together_succeed_or_fail_each_on_its_own(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let mut intake = app.intake().await;
        tasks.spawn(async move {
            let mut request = submit_request(allegation());
            match i % 5 {
                // The same submission retried: one allegation.
                0 => request.request_id = "retried".into(),
                // One request id for different allegations: the first stored wins.
                1 => {
                    request.request_id = "reused".into();
                    request.allegation.as_mut().unwrap().narrative = format!("Account {i}.");
                }
                _ => {}
            }
            (i % 5, intake.submit_allegation(request).await)
        });
    }
    let (mut retried, mut reused, mut refused, mut references) =
        (Vec::new(), Vec::new(), 0, Vec::new());
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            (_, Err(status)) => {
                assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
                refused += 1;
            }
            (kind, Ok(answer)) => {
                let stored = answer.into_inner().allegation.unwrap();
                match kind {
                    0 => retried.push(stored.id.clone()),
                    1 => reused.push(stored.id.clone()),
                    _ => {}
                }
                references.push(stored.reference);
            }
        }
    }
    retried.dedup();
    assert_eq!(
        retried.len(),
        1,
        "every retry answers with the one allegation"
    );
    assert_eq!(
        (reused.len(), refused),
        (1, 7),
        "one reuse stored, the others refused"
    );
    references.sort();
    references.dedup();
    let year = chrono_year_now();
    let expected: Vec<String> = (1..=26).map(|n| format!("ALG-{year}-{n:06}")).collect();
    assert_eq!(references, expected);
    app.stop().await;
}

async fn listing_pages_through_every_allegation_in_order(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let mut submitted = Vec::new();
    for _ in 0..7 {
        let answer = intake
            .submit_allegation(submit_request(allegation()))
            .await
            .unwrap();
        submitted.push(answer.into_inner().allegation.unwrap().id);
    }
    let mut seen = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let page = intake
            .list_allegations(pb::ListAllegationsRequest {
                page_size: 3,
                page_token: page_token.clone(),
                ..pb::ListAllegationsRequest::default()
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        seen.extend(page.allegations.into_iter().map(|a| a.id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, submitted, "every allegation once, oldest first");
    app.stop().await;
}

async fn listing_filters_by_status_violation_type_party_and_time(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let shelling = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap();
    let shelling = shelling.into_inner().allegation.unwrap();
    let mut execution = allegation();
    execution.violation_types = vec![common::ViolationType::Killing.into()];
    execution.alleged_perpetrators[0].party_code = "AZ".into();
    let execution = intake
        .submit_allegation(submit_request(execution))
        .await
        .unwrap();
    let execution = execution.into_inner().allegation.unwrap();
    intake
        .accept_allegation(pb::AcceptAllegationRequest {
            id: execution.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();

    let ids = |request: pb::ListAllegationsRequest| {
        let mut intake = intake.clone();
        async move {
            let page = intake.list_allegations(request).await.unwrap().into_inner();
            page.allegations
                .into_iter()
                .map(|a| a.id)
                .collect::<Vec<_>>()
        }
    };
    let by_status = ids(pb::ListAllegationsRequest {
        status: pb::AllegationStatus::Accepted.into(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_status, vec![execution.id.clone()]);
    let by_type = ids(pb::ListAllegationsRequest {
        violation_type: common::ViolationType::AttackOnCivilians.into(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_type, vec![shelling.id.clone()]);
    let by_party = ids(pb::ListAllegationsRequest {
        party_code: "AZ".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_party, vec![execution.id.clone()]);
    let after_the_second = ids(pb::ListAllegationsRequest {
        received_after: execution.received_at,
        ..Default::default()
    })
    .await;
    assert_eq!(after_the_second, vec![execution.id.clone()]);
    let before_the_second = ids(pb::ListAllegationsRequest {
        received_before: execution.received_at,
        ..Default::default()
    })
    .await;
    assert_eq!(before_the_second, vec![shelling.id.clone()]);
    app.stop().await;
}

async fn a_page_token_is_refused_with_other_filters(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    for _ in 0..2 {
        intake
            .submit_allegation(submit_request(allegation()))
            .await
            .unwrap();
    }
    let first = intake
        .list_allegations(pb::ListAllegationsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!first.next_page_token.is_empty());
    let status = intake
        .list_allegations(pb::ListAllegationsRequest {
            page_size: 1,
            page_token: first.next_page_token,
            status: pb::AllegationStatus::Received.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(docket_e2e::field_violations(&status), ["page_token"]);
    app.stop().await;
}

async fn nothing_is_lost_across_a_restart(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let stored = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap();
    let stored = stored.into_inner().allegation.unwrap();
    let app = app.restart().await;
    let mut intake = app.intake().await;
    let fetched = intake
        .get_allegation(pb::GetAllegationRequest {
            id: stored.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(fetched, stored);
    // Numbering goes on where it stopped.
    let next = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap();
    let year = chrono_year_now();
    assert_eq!(
        next.into_inner().allegation.unwrap().reference,
        format!("ALG-{year}-000002")
    );
    app.stop().await;
}

/// How many allegations intake holds.
pub async fn count(app: &TestApp) -> usize {
    let mut intake = app.intake().await;
    let page = intake
        .list_allegations(pb::ListAllegationsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    page.allegations.len()
}

/// The current year, as references number within the year of receipt.
pub fn chrono_year_now() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}
