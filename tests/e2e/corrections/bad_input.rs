//! Bad corrections, reopenings, removals and history reads: INVALID_ARGUMENT naming each bad
//! field, and nothing written.

use docket_e2e::{Backend, TestApp, allegation, case_message, field_violations, on_every_backend};
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as pb;
use tonic::Code;

use super::{allegation as current, allegation_changes, case as get, case_changes, mask, register};

on_every_backend!(
    bad_corrections_of_an_allegation_are_refused_field_by_field,
    bad_removals_unlinkings_and_history_reads_of_a_case_are_refused_field_by_field,
);

/// Asserts `result` is INVALID_ARGUMENT naming exactly `fields`.
fn refused<T: std::fmt::Debug>(result: Result<T, tonic::Status>, fields: &[&str]) {
    let status = result.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(field_violations(&status), fields, "{}", status.message());
}

async fn bad_corrections_of_an_allegation_are_refused_field_by_field(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let stored = register(&mut intake, allegation()).await;
    let id = stored.id.clone();

    refused(
        intake
            .update_allegation(pb::UpdateAllegationRequest {
                id: "ALG-2020-1".into(),
                etag: String::new(),
                allegation: None,
                update_mask: mask(&["narrative", "status", "source", "source.name"]),
                reason: " ".into(),
            })
            .await,
        &[
            "id",
            "etag",
            "update_mask.paths[1]",
            "update_mask.paths[3]",
            "allegation",
            "reason",
        ],
    );
    refused(
        intake
            .update_allegation(pb::UpdateAllegationRequest {
                id: id.clone(),
                etag: "not an etag".into(),
                allegation: Some(pb::Allegation::default()),
                update_mask: None,
                reason: "x".repeat(2_001),
            })
            .await,
        &["etag", "update_mask", "reason"],
    );
    // The new values are checked as a submission's are, with the request's paths; a field not
    // named in the mask is not taken, however bad.
    let mut bad = allegation();
    bad.narrative = "  ".into();
    bad.victims[1].count = 0;
    bad.alleged_perpetrators[0].party_code = "armenia".into();
    bad.language = String::new();
    refused(
        intake
            .update_allegation(pb::UpdateAllegationRequest {
                id: id.clone(),
                etag: stored.etag.clone(),
                allegation: Some(bad),
                update_mask: mask(&["narrative", "victims", "alleged_perpetrators"]),
                reason: "Corrected by phone.".into(),
            })
            .await,
        &[
            "allegation.narrative",
            "allegation.alleged_perpetrators[0].party_code",
            "allegation.victims[1].count",
        ],
    );
    // Whether the source is anonymous is not a correction: it decides who holds a receipt.
    let mut anonymous = allegation();
    anonymous.source = Some(pb::Source {
        anonymous: true,
        ..Default::default()
    });
    refused(
        intake
            .update_allegation(pb::UpdateAllegationRequest {
                id: id.clone(),
                etag: stored.etag.clone(),
                allegation: Some(anonymous),
                update_mask: mask(&["source"]),
                reason: "The source asked to stay anonymous.".into(),
            })
            .await,
        &["allegation.source.anonymous"],
    );
    refused(
        intake
            .reopen_allegation(pb::ReopenAllegationRequest {
                id: String::new(),
                etag: "zz".into(),
                reason: String::new(),
                message_for_source: "m".repeat(2_001),
            })
            .await,
        &["id", "etag", "reason", "message_for_source"],
    );
    refused(
        intake
            .accept_allegation(pb::AcceptAllegationRequest {
                id: id.clone(),
                join_case_id: "CASE-2020-1".into(),
                ..Default::default()
            })
            .await,
        &["join_case_id"],
    );
    refused(
        intake
            .list_allegation_changes(pb::ListAllegationChangesRequest {
                id: id.clone(),
                page_size: -1,
                page_token: "nope".into(),
            })
            .await,
        &["page_size", "page_token"],
    );
    refused(
        intake
            .list_allegation_changes(pb::ListAllegationChangesRequest::default())
            .await,
        &["id"],
    );
    let unknown = intake
        .list_allegation_changes(pb::ListAllegationChangesRequest {
            id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    assert_eq!(
        current(&mut intake, &id).await,
        stored,
        "nothing was written"
    );
    assert!(allegation_changes(&mut intake, &id).await.is_empty());
    app.stop().await;
}

async fn bad_removals_unlinkings_and_history_reads_of_a_case_are_refused_field_by_field(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let case = investigator
        .open_case(cases::OpenCaseRequest {
            r#case: Some(case_message("Execution of prisoners of war", "AZ")),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let history = case_changes(&mut investigator, &case.id).await;

    refused(
        investigator
            .remove_person(cases::RemovePersonRequest {
                case_id: "case".into(),
                etag: "not an etag".into(),
                person_id: String::new(),
                reason: String::new(),
            })
            .await,
        &["case_id", "etag", "person_id", "reason"],
    );
    refused(
        investigator
            .unlink_evidence(cases::UnlinkEvidenceRequest {
                case_id: case.id.clone(),
                etag: String::new(),
                evidence_id: "video-1".into(),
                reason: "r".repeat(2_001),
            })
            .await,
        &["evidence_id", "reason"],
    );
    refused(
        investigator
            .update_case(cases::UpdateCaseRequest {
                case_id: case.id.clone(),
                etag: case.etag.clone(),
                r#case: Some(cases::Case {
                    title: "A new title".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["title"]),
                reason: "r".repeat(2_001),
            })
            .await,
        &["reason"],
    );
    refused(
        investigator
            .list_case_changes(cases::ListCaseChangesRequest {
                case_id: "x".into(),
                page_size: -5,
                page_token: String::new(),
            })
            .await,
        &["case_id", "page_size"],
    );
    refused(
        investigator
            .list_case_changes(cases::ListCaseChangesRequest {
                case_id: case.id.clone(),
                page_size: 0,
                page_token: "00".into(),
            })
            .await,
        &["page_token"],
    );

    assert_eq!(
        get(&mut investigator, &case.id).await,
        case,
        "nothing was written"
    );
    assert_eq!(case_changes(&mut investigator, &case.id).await, history);
    app.stop().await;
}
