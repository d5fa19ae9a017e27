//! The lifecycle of a case, its history, updates under a field mask and an etag, and listing.

use docket_e2e::{Backend, TestApp, case_message, on_every_backend};
use docket_proto::docket::cases::v1 as pb;
use tonic::Code;

use super::{advance, open, qualify};

on_every_backend!(
    a_case_moves_through_its_lifecycle_and_keeps_who_when_and_why,
    illegal_moves_are_refused_naming_the_allowed_ones,
    a_stale_etag_is_aborted_and_changes_nothing,
    an_update_changes_only_the_fields_its_mask_names,
    a_merged_case_names_the_case_it_joined,
    cases_are_listed_by_page_and_filtered,
);

async fn a_case_moves_through_its_lifecycle_and_keeps_who_when_and_why(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let case = open(&mut cases, case_message("Execution of prisoners", "AZ")).await;
    assert_eq!(case.status(), pb::CaseStatus::Open);
    let case = advance(&mut cases, &case, pb::CaseStatus::UnderInvestigation).await;
    let case = advance(&mut cases, &case, pb::CaseStatus::ChargesFiled).await;
    let case = advance(&mut cases, &case, pb::CaseStatus::ReferredToCourt).await;
    let closed = cases
        .transition_case(pb::TransitionCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            target_status: pb::CaseStatus::Closed.into(),
            reason: pb::CloseReason::Other.into(),
            note: "Judgment delivered; the case file is archived.".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(closed.status(), pb::CaseStatus::Closed);
    assert_eq!(closed.close_reason(), pb::CloseReason::Other);

    let history = cases
        .list_case_history(pb::ListCaseHistoryRequest {
            case_id: case.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .changes;
    let moves: Vec<(pb::CaseStatus, pb::CaseStatus)> = history
        .iter()
        .map(|c| (c.from_status(), c.to_status()))
        .collect();
    use pb::CaseStatus::*;
    assert_eq!(
        moves,
        [
            (Unspecified, Open),
            (Open, UnderInvestigation),
            (UnderInvestigation, ChargesFiled),
            (ChargesFiled, ReferredToCourt),
            (ReferredToCourt, Closed),
        ]
    );
    assert!(
        history
            .iter()
            .all(|c| c.changed_by == "investigator.mammadov")
    );
    assert!(history.iter().all(|c| c.changed_at.is_some()));
    let last = history.last().unwrap();
    assert_eq!(last.close_reason(), pb::CloseReason::Other);
    assert_eq!(last.note, "Judgment delivered; the case file is archived.");
    app.stop().await;
}

async fn illegal_moves_are_refused_naming_the_allowed_ones(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let case = open(&mut cases, case_message("Defilement of bodies", "AM")).await;
    let refused = cases
        .transition_case(pb::TransitionCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            target_status: pb::CaseStatus::ChargesFiled.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("under_investigation, closed"),
        "{}",
        refused.message()
    );

    let closed = cases
        .transition_case(pb::TransitionCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            target_status: pb::CaseStatus::Closed.into(),
            reason: pb::CloseReason::InsufficientEvidence.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let reopened = cases
        .transition_case(pb::TransitionCaseRequest {
            case_id: case.id.clone(),
            etag: closed.etag.clone(),
            target_status: pb::CaseStatus::UnderInvestigation.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reopened.code(), Code::FailedPrecondition);
    assert!(
        reopened.message().contains("final"),
        "{}",
        reopened.message()
    );
    let prosecutor = &mut app.cases_as(docket_platform::auth::Role::Prosecutor).await;
    let requalified = prosecutor
        .qualify_case(pb::QualifyCaseRequest {
            case_id: case.id.clone(),
            etag: closed.etag.clone(),
            add_crime_type_codes: vec!["icc.8.2.b.xxi".into()],
            remove_crime_type_codes: Vec::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(requalified.code(), Code::FailedPrecondition);
    app.stop().await;
}

async fn a_stale_etag_is_aborted_and_changes_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let read = open(&mut cases, case_message("Shelling of Tartar", "AM")).await;
    let changed = advance(&mut cases, &read, pb::CaseStatus::UnderInvestigation).await;
    assert_ne!(changed.etag, read.etag);

    // A second investigator still holds the case as first read.
    let stale = cases
        .update_case(pb::UpdateCaseRequest {
            case_id: read.id.clone(),
            etag: read.etag.clone(),
            r#case: Some(pb::Case {
                title: "Shelling of Tartar district".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["title".into()],
            }),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let stale_move = cases
        .transition_case(pb::TransitionCaseRequest {
            case_id: read.id.clone(),
            etag: read.etag.clone(),
            target_status: pb::CaseStatus::Closed.into(),
            reason: pb::CloseReason::NotACrime.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(stale_move.code(), Code::Aborted);
    let now = cases
        .get_case(pb::GetCaseRequest {
            case_id: read.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(now, changed, "the refused changes left no trace");
    app.stop().await;
}

async fn an_update_changes_only_the_fields_its_mask_names(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let case = open(&mut cases, case_message("Execution of prisoners", "AZ")).await;
    let updated = cases
        .update_case(pb::UpdateCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            r#case: Some(pb::Case {
                title: "ignored: not in the mask".into(),
                assigned_investigator: "investigator.mammadov".into(),
                assigned_prosecutor: "prosecutor.huseynova".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["assigned_investigator".into(), "assigned_prosecutor".into()],
            }),
            reason: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(updated.title, case.title);
    assert_eq!(updated.victims, case.victims);
    assert_eq!(updated.assigned_investigator, "investigator.mammadov");
    assert_eq!(updated.assigned_prosecutor, "prosecutor.huseynova");
    assert_ne!(updated.etag, case.etag);
    app.stop().await;
}

async fn a_merged_case_names_the_case_it_joined(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let kept = open(
        &mut cases,
        case_message("Shelling of Ganja, 11 October", "AM"),
    )
    .await;
    let merged = open(&mut cases, case_message("Rocket strike on Ganja", "AM")).await;
    let closed = cases
        .transition_case(pb::TransitionCaseRequest {
            case_id: merged.id.clone(),
            etag: merged.etag.clone(),
            target_status: pb::CaseStatus::Closed.into(),
            reason: pb::CloseReason::Merged.into(),
            merged_into_case_id: kept.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(closed.close_reason(), pb::CloseReason::Merged);
    assert_eq!(closed.merged_into_case_id, kept.id);
    app.stop().await;
}

async fn cases_are_listed_by_page_and_filtered(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let against_az = open(&mut cases, case_message("Execution of prisoners", "AZ")).await;
    let against_am = open(&mut cases, case_message("Defilement of bodies", "AM")).await;
    let third = open(&mut cases, case_message("Shelling of Barda", "AM")).await;
    let mut prosecutor = app.cases_as(docket_platform::auth::Role::Prosecutor).await;
    qualify(&mut prosecutor, &against_am, &["icc.8.2.b.xxi"]).await;
    advance(&mut cases, &third, pb::CaseStatus::UnderInvestigation).await;

    let list = |request: pb::ListCasesRequest| {
        let mut cases = cases.clone();
        async move {
            let page = cases.list_cases(request).await.unwrap().into_inner();
            let ids: Vec<String> = page.cases.into_iter().map(|c| c.id).collect();
            (ids, page.next_page_token)
        }
    };
    let (first, token) = list(pb::ListCasesRequest {
        page_size: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(first, [against_az.id.clone(), against_am.id.clone()]);
    let (second, end) = list(pb::ListCasesRequest {
        page_size: 2,
        page_token: token,
        ..Default::default()
    })
    .await;
    assert_eq!(second, std::slice::from_ref(&third.id));
    assert!(end.is_empty());

    let (by_party, _) = list(pb::ListCasesRequest {
        party_code: "AM".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_party, [against_am.id.clone(), third.id.clone()]);
    let (by_crime, _) = list(pb::ListCasesRequest {
        crime_type_code: "icc.8.2.b.xxi".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_crime, std::slice::from_ref(&against_am.id));
    let (by_status, _) = list(pb::ListCasesRequest {
        status: pb::CaseStatus::UnderInvestigation.into(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_status, std::slice::from_ref(&third.id));
    let (none_yet, _) = list(pb::ListCasesRequest {
        opened_after: Some(prost_types::Timestamp {
            seconds: 4_000_000_000,
            nanos: 0,
        }),
        ..Default::default()
    })
    .await;
    assert!(none_yet.is_empty());
    app.stop().await;
}
