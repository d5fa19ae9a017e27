//! Verdicts on content: an authenticity verdict belongs to the bytes, so it follows every copy of
//! a file — at triage, in every case that links a copy, and in what reporting counts — and the
//! chain of custody says when things happened, not when they were typed in.

use std::time::Duration;

use docket_e2e::{
    Backend, IntakeClient, ReportingClient, TestApp, allegation, field_violations,
    on_every_backend, submit_request,
};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::reporting::v1 as rep;
use tonic::Code;

use crate::evidence::{metadata, sha256, upload};

on_every_backend!(
    a_verdict_on_one_copy_of_an_execution_video_follows_every_copy_and_every_case,
    the_collected_custody_event_keeps_the_declared_collection_time,
    assessing_content_takes_a_whole_verdict_from_analysts_and_investigators_only,
);

const VIDEO: &[u8] = b"an execution video that circulates on three channels";
/// The same clip re-encoded by a third channel: other bytes, the same pictures.
const RE_ENCODED: &[u8] = b"an execution video that circulates on three channels, re-encoded";

pub(crate) async fn new_allegation(intake: &mut IntakeClient) -> String {
    intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
        .id
}

pub(crate) async fn stored(
    intake: &mut IntakeClient,
    allegation_id: &str,
    bytes: &[u8],
) -> pb::Evidence {
    upload(intake, metadata(allegation_id, ""), bytes, 16)
        .await
        .unwrap()
        .evidence
        .unwrap()
}

pub(crate) fn judgement(
    evidence_id: &str,
    verdict: pb::ContentVerdict,
) -> pb::AssessContentRequest {
    pb::AssessContentRequest {
        evidence_id: evidence_id.into(),
        verdict: verdict.into(),
        method: pb::ContentAssessmentMethod::ExpertExamination.into(),
        confidence: pb::AssessmentConfidence::High.into(),
        examiner: "Forensic laboratory".into(),
        notes: "Frames spliced from two recordings; shadows disagree.".into(),
        ..Default::default()
    }
}

async fn verdict_on(intake: &mut IntakeClient, evidence_id: &str) -> pb::ContentVerdict {
    intake
        .get_evidence(pb::GetEvidenceRequest {
            evidence_id: evidence_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
        .unwrap()
        .content_verdict
        .map_or(pb::ContentVerdict::Unspecified, |a| a.verdict())
}

/// The case opened from accepted allegation `allegation_id`.
pub(crate) async fn case_of(
    app: &TestApp,
    intake: &mut IntakeClient,
    allegation_id: &str,
) -> String {
    docket_e2e::accept(intake, allegation_id).await;
    let mut investigator = app.cases().await;
    let found = docket_e2e::cases_of(&mut investigator, allegation_id).await;
    found.first().expect("a case opened").id.clone()
}

pub(crate) async fn link(app: &TestApp, case_id: &str, evidence_id: &str) {
    app.cases()
        .await
        .link_evidence(cases::LinkEvidenceRequest {
            case_id: case_id.into(),
            evidence_id: evidence_id.into(),
            description: "Video: execution of two prisoners".into(),
            ..Default::default()
        })
        .await
        .unwrap();
}

async fn linked(app: &TestApp, case_id: &str) -> Vec<(cases::Verdict, cases::Verdict)> {
    app.cases()
        .await
        .list_evidence(cases::ListEvidenceRequest {
            case_id: case_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
        .iter()
        .map(|item| (item.content_verdict(), item.standing()))
        .collect()
}

/// Cases by whether they count, once reporting counts `expected` (or after 30 s: fails).
async fn cases_by_counting(client: &mut ReportingClient, expected: &[(&str, i64)]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = client
            .query_statistics(rep::QueryStatisticsRequest {
                measure: rep::Measure::Cases.into(),
                group_by: vec![rep::Dimension::Counting.into()],
                audience: rep::Audience::Internal.into(),
                include_uncounted: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let rows: Vec<(String, i64)> = answer
            .rows
            .iter()
            .map(|row| (row.keys.join("/"), row.value))
            .collect();
        let wanted: Vec<(String, i64)> = expected
            .iter()
            .map(|(key, n)| ((*key).to_owned(), *n))
            .collect();
        if rows == wanted {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "cases by counting {rows:?}, not {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_verdict_on_one_copy_of_an_execution_video_follows_every_copy_and_every_case(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    // Two sources send the same video; a third channel's copy is re-encoded.
    let first = new_allegation(&mut officer).await;
    let second = new_allegation(&mut officer).await;
    let third = new_allegation(&mut officer).await;
    let one = stored(&mut officer, &first, VIDEO).await;
    let other = stored(&mut officer, &second, VIDEO).await;
    let re_encoded = stored(&mut officer, &third, RE_ENCODED).await;
    assert_eq!(one.sha256, other.sha256);

    // At triage, before any case exists, an analyst judges the first copy: inconclusive.
    let mut analyst = app.intake_as(Role::Analyst).await;
    analyst
        .assess_content(judgement(&one.id, pb::ContentVerdict::Inconclusive))
        .await
        .unwrap();
    assert_eq!(
        verdict_on(&mut officer, &other.id).await,
        pb::ContentVerdict::Inconclusive,
        "the other source's copy shows the verdict at triage"
    );

    // Both allegations become cases, each linking its own copy; the third too.
    let first_case = case_of(&app, &mut officer, &first).await;
    let second_case = case_of(&app, &mut officer, &second).await;
    let third_case = case_of(&app, &mut officer, &third).await;
    link(&app, &first_case, &one.id).await;
    link(&app, &second_case, &other.id).await;
    link(&app, &third_case, &re_encoded.id).await;
    let mut reporting = app.reporting_as(Role::Analyst).await;
    cases_by_counting(&mut reporting, &[("counted", 3)]).await;

    // An investigator judges the second source's copy fabricated: every copy and every case
    // linking one shows it, with the history kept.
    let mut investigator = app.intake_as(Role::Investigator).await;
    investigator
        .assess_content(judgement(
            &other.id,
            pb::ContentVerdict::FabricatedOrManipulated,
        ))
        .await
        .unwrap();
    let copies = officer
        .list_evidence(pb::ListEvidenceRequest {
            sha256: sha256(VIDEO),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert_eq!(copies.len(), 2);
    for copy in &copies {
        assert_eq!(
            copy.content_verdict.as_ref().map(|a| a.verdict()),
            Some(pb::ContentVerdict::FabricatedOrManipulated),
            "copy {} shows the verdict",
            copy.id
        );
    }
    let history = officer
        .list_content_assessments(pb::ListContentAssessmentsRequest {
            evidence_id: one.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assessments;
    let verdicts: Vec<(pb::ContentVerdict, &str)> = history
        .iter()
        .map(|a| (a.verdict(), a.recorded_by.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [
            (pb::ContentVerdict::Inconclusive, "analyst"),
            (pb::ContentVerdict::FabricatedOrManipulated, "investigator"),
        ]
    );
    let fabricated = cases::Verdict::FabricatedOrManipulated;
    assert_eq!(linked(&app, &first_case).await, [(fabricated, fabricated)]);
    assert_eq!(linked(&app, &second_case).await, [(fabricated, fabricated)]);

    // Reporting counts both cases as resting only on fabricated material; the third still
    // counts.
    cases_by_counting(
        &mut reporting,
        &[("counted", 1), ("fabricated_evidence", 2)],
    )
    .await;

    // FOLLOW-UP (branch `similar`, near-duplicates): the re-encoded copy has other bytes, so the
    // verdict does not reach it yet; once FindSimilarEvidence lands, the fabricated verdict must
    // flag it for review.
    assert_eq!(
        verdict_on(&mut officer, &re_encoded.id).await,
        pb::ContentVerdict::Unspecified
    );
}

async fn the_collected_custody_event_keeps_the_declared_collection_time(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    let allegation_id = new_allegation(&mut officer).await;
    let evidence = stored(&mut officer, &allegation_id, VIDEO).await;
    let events = officer
        .list_custody_events(pb::ListCustodyEventsRequest {
            evidence_id: evidence.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let collected = events
        .iter()
        .find(|e| e.kind() == pb::CustodyEventKind::Collected)
        .expect("a collected event");
    assert_eq!(collected.occurred_time, evidence.collected_time);
    let uploaded = events
        .iter()
        .find(|e| e.kind() == pb::CustodyEventKind::Uploaded)
        .expect("an uploaded event");
    assert_eq!(uploaded.occurred_time, evidence.uploaded_time);
    assert_ne!(collected.occurred_time, uploaded.occurred_time);
}

async fn assessing_content_takes_a_whole_verdict_from_analysts_and_investigators_only(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    let allegation_id = new_allegation(&mut officer).await;
    let evidence = stored(&mut officer, &allegation_id, VIDEO).await;
    let mut analyst = app.intake_as(Role::Analyst).await;

    let empty = analyst
        .assess_content(pb::AssessContentRequest::default())
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
    assert_eq!(
        field_violations(&empty),
        [
            "evidence_id",
            "verdict",
            "method",
            "confidence",
            "examiner",
            "notes"
        ]
    );
    let mut both = judgement(&evidence.id, pb::ContentVerdict::Authentic);
    both.sha256 = evidence.sha256.clone();
    both.verdict = 42;
    let refused = analyst.assess_content(both).await.unwrap_err();
    assert_eq!(field_violations(&refused), ["sha256", "verdict"]);

    let mut unknown = judgement("", pb::ContentVerdict::Authentic);
    unknown.sha256 = sha256(b"bytes nobody uploaded");
    let missing = analyst.assess_content(unknown).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    let denied = officer
        .assess_content(judgement(&evidence.id, pb::ContentVerdict::Authentic))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // Nothing refused was written.
    let history = analyst
        .list_content_assessments(pb::ListContentAssessmentsRequest {
            sha256: evidence.sha256.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assessments;
    assert!(history.is_empty());
    assert_eq!(
        evidence.content_verdict, None,
        "an unassessed upload has no verdict"
    );
}
