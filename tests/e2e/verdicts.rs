//! Verdicts on content: an authenticity verdict belongs to the bytes, so it follows every copy of
//! a file — at triage, in every case that links a copy, and in what reporting counts — and the
//! chain of custody says when things happened, not when they were typed in.

use std::time::Duration;

use docket_e2e::{
    Backend, IntakeClient, ReportingClient, TestApp, allegation, field_violations,
    on_every_backend, submit_request,
};
use docket_platform::auth::Role;
use docket_proto::docket::audit::v1 as audit;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::reporting::v1 as rep;
use tonic::Code;

use crate::evidence::{metadata, sha256, upload};
use crate::similar::{ffmpeg, similar, upload_file};

on_every_backend!(
    a_verdict_on_one_copy_of_an_execution_video_follows_every_copy_and_every_case,
    the_collected_custody_event_keeps_the_declared_collection_time,
    assessing_content_takes_a_whole_verdict_from_analysts_and_investigators_only,
    listing_review_flags_refuses_bad_filters_and_other_roles,
);

const VIDEO: &[u8] = b"an execution video that circulates on three channels";

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
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
        .iter()
        .map(|item| (item.content_verdict(), item.standing()))
        .collect()
}

/// Allegations by the material they rest on, once reporting counts `expected` (or after 30 s:
/// fails).
async fn allegations_by_material(client: &mut ReportingClient, expected: &[(&str, i64)]) {
    statistics_until(
        client,
        rep::QueryStatisticsRequest {
            measure: rep::Measure::Allegations.into(),
            group_by: vec![rep::Dimension::Material.into()],
            audience: rep::Audience::Internal.into(),
            ..Default::default()
        },
        expected,
    )
    .await;
}

/// Cases by whether they count, once reporting counts `expected` (or after 30 s: fails).
async fn cases_by_counting(client: &mut ReportingClient, expected: &[(&str, i64)]) {
    statistics_until(
        client,
        rep::QueryStatisticsRequest {
            measure: rep::Measure::Cases.into(),
            group_by: vec![rep::Dimension::Counting.into()],
            audience: rep::Audience::Internal.into(),
            include_uncounted: true,
            ..Default::default()
        },
        expected,
    )
    .await;
}

/// Asks `request` until its rows are `expected` (or after 30 s: fails).
async fn statistics_until(
    client: &mut ReportingClient,
    request: rep::QueryStatisticsRequest,
    expected: &[(&str, i64)],
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = client
            .query_statistics(request.clone())
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
            "{request:?}: {rows:?}, not {wanted:?}"
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
    // The clip, the third channel's re-encoding of it, and a copy trimmed by three seconds that
    // turns up only after the verdict.
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("execution.mp4");
    let encode = [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ];
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=10",
        "-t",
        "8",
    ];
    args.extend(encode);
    args.extend(["-crf", "23", clip.to_str().unwrap()]);
    ffmpeg(&args);
    let re_encoded_clip = dir.path().join("re-encoded.mp4");
    let trimmed_clip = dir.path().join("trimmed.mp4");
    for (copy, extra) in [
        (&re_encoded_clip, ["-crf", "38", "-ss", "0"]),
        (&trimmed_clip, ["-crf", "30", "-ss", "3"]),
    ] {
        let mut args = vec!["-i", clip.to_str().unwrap()];
        args.extend(extra);
        args.extend(encode);
        args.push(copy.to_str().unwrap());
        ffmpeg(&args);
    }
    let video = std::fs::read(&clip).unwrap();

    let mut officer = app.intake().await;
    // Two sources send the same video; a third channel's copy is re-encoded.
    let first = new_allegation(&mut officer).await;
    let second = new_allegation(&mut officer).await;
    let third = new_allegation(&mut officer).await;
    let one = upload_file(&mut officer, &first, &clip).await;
    let other = upload_file(&mut officer, &second, &clip).await;
    let re_encoded = upload_file(&mut officer, &third, &re_encoded_clip).await;
    let mut analyst = app.intake_as(Role::Analyst).await;
    for id in [&one, &other, &re_encoded] {
        similar(&mut analyst, id).await;
    }
    let near = similar(&mut analyst, &re_encoded).await;
    assert!(
        near.candidates
            .iter()
            .any(|c| c.evidence_ids.contains(&one) && c.evidence_ids.contains(&other)),
        "the re-encoded copy is found to be the same video: {near:?}"
    );

    // At triage, before any case exists, an analyst judges the first copy: inconclusive.
    analyst
        .assess_content(judgement(&one, pb::ContentVerdict::Inconclusive))
        .await
        .unwrap();
    assert_eq!(
        verdict_on(&mut officer, &other).await,
        pb::ContentVerdict::Inconclusive,
        "the other source's copy shows the verdict at triage"
    );
    assert!(
        review_flags_on(&mut officer, &re_encoded).await.is_empty(),
        "an inconclusive verdict flags nothing"
    );

    // The allegations become cases, each linking its own copy.
    let first_case = case_of(&app, &mut officer, &first).await;
    let second_case = case_of(&app, &mut officer, &second).await;
    let third_case = case_of(&app, &mut officer, &third).await;
    link(&app, &first_case, &one).await;
    link(&app, &second_case, &other).await;
    link(&app, &third_case, &re_encoded).await;
    let mut reporting = app.reporting_as(Role::Analyst).await;
    cases_by_counting(&mut reporting, &[("counted", 3)]).await;

    // An investigator judges the second source's copy fabricated: every copy and every case
    // linking one shows it, with the history kept.
    let mut investigator = app.intake_as(Role::Investigator).await;
    let fabricated_verdict = investigator
        .assess_content(judgement(
            &other,
            pb::ContentVerdict::FabricatedOrManipulated,
        ))
        .await
        .unwrap()
        .into_inner()
        .assessment
        .unwrap();
    let copies = officer
        .list_evidence(pb::ListEvidenceRequest {
            sha256: sha256(&video),
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
        assert!(copy.review_flags.is_empty(), "judged bytes are not flagged");
    }
    let history = officer
        .list_content_assessments(pb::ListContentAssessmentsRequest {
            evidence_id: one.clone(),
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

    // The re-encoded copy has other bytes: it gets no verdict, but a review flag naming the
    // copies judged fabricated, at triage and in the case that links it.
    assert_eq!(
        verdict_on(&mut officer, &re_encoded).await,
        pb::ContentVerdict::Unspecified
    );
    let flags = review_flags_on(&mut officer, &re_encoded).await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    let flag = &flags[0];
    assert_eq!(flag.near_duplicate_sha256, sha256(&video));
    assert_eq!(
        flag.near_duplicate_evidence_ids,
        [one.clone(), other.clone()]
    );
    assert_eq!(flag.evidence_ids, std::slice::from_ref(&re_encoded));
    assert_eq!(
        flag.near_duplicate_verdict.as_ref().map(|a| a.id.as_str()),
        Some(fabricated_verdict.id.as_str())
    );
    assert!(flag.cleared_time.is_none());
    // Each allegation shows the verdicts and flags of the evidence it rests on.
    let shown = |answer: pb::GetAllegationResponse| -> Vec<(String, pb::ContentVerdict, usize)> {
        answer
            .evidence
            .iter()
            .map(|e| {
                let verdict = e
                    .content_verdict
                    .as_ref()
                    .map_or(pb::ContentVerdict::Unspecified, |a| a.verdict());
                (e.id.clone(), verdict, e.review_flags.len())
            })
            .collect()
    };
    let get = |id: &str| pb::GetAllegationRequest { id: id.into() };
    let second_shown = shown(
        officer
            .get_allegation(get(&second))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(
        second_shown,
        [(
            other.clone(),
            pb::ContentVerdict::FabricatedOrManipulated,
            0
        )]
    );
    let third_shown = shown(
        officer
            .get_allegation(get(&third))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(
        third_shown,
        [(re_encoded.clone(), pb::ContentVerdict::Unspecified, 1)]
    );
    let in_case = linked_items(&app, &third_case).await;
    assert_eq!(in_case.len(), 1);
    assert_eq!(in_case[0].content_verdict(), cases::Verdict::Unspecified);
    let case_flags: Vec<(&str, cases::Verdict)> = in_case[0]
        .review_flags
        .iter()
        .map(|f| (f.near_duplicate_sha256.as_str(), f.near_duplicate_verdict()))
        .collect();
    assert_eq!(
        case_flags,
        [(flag.near_duplicate_sha256.as_str(), fabricated)]
    );
    // Analysts find it in the list of what waits for review.
    let open = analyst
        .list_review_flags(pb::ListReviewFlagsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .flags;
    assert_eq!(open.iter().map(|f| &f.id).collect::<Vec<_>>(), [&flag.id]);
    // Raising the flag and listing it are both audited.
    let raised = audited(&app, "AssessContent").await;
    assert!(
        raised.iter().any(
            |e| e.action == "flag near-duplicates of fabricated content for review"
                && e.subject == "investigator"
                && e.target_ids.contains(&flag.id)
        ),
        "{raised:?}"
    );
    let listed = audited(&app, "ListReviewFlags").await;
    assert!(
        listed
            .iter()
            .any(|e| e.subject == "analyst" && e.target_ids == [flag.id.clone()]),
        "{listed:?}"
    );

    // A trimmed copy arrives after the verdict: its hashing flags it.
    let fourth = new_allegation(&mut officer).await;
    let trimmed = upload_file(&mut officer, &fourth, &trimmed_clip).await;
    similar(&mut analyst, &trimmed).await;
    let late = review_flags_on(&mut officer, &trimmed).await;
    assert_eq!(
        late.iter()
            .map(|f| f.near_duplicate_sha256.as_str())
            .collect::<Vec<_>>(),
        [sha256(&video).as_str()],
        "a copy hashed after the verdict is flagged too"
    );

    // Reporting counts both cases as resting only on fabricated material; the third still
    // counts (a flag is a question, not a verdict).
    cases_by_counting(
        &mut reporting,
        &[("counted", 1), ("fabricated_evidence", 2)],
    )
    .await;

    // And it counts the allegations resting only on fabricated material: the two sources'; the
    // re-encoded copy's and the trimmed copy's rest on content without a verdict.
    allegations_by_material(&mut reporting, &[("only_fabricated", 2), ("other", 2)]).await;

    // The re-encoded copy gets its own verdict: its flag clears, and stays listed as cleared.
    analyst
        .assess_content(judgement(&re_encoded, pb::ContentVerdict::LikelyFabricated))
        .await
        .unwrap();
    assert!(review_flags_on(&mut officer, &re_encoded).await.is_empty());
    assert!(
        linked_items(&app, &third_case).await[0]
            .review_flags
            .is_empty()
    );
    let all = analyst
        .list_review_flags(pb::ListReviewFlagsRequest {
            include_cleared: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .flags;
    let cleared = all.iter().find(|f| f.id == flag.id).expect("still listed");
    assert!(cleared.cleared_time.is_some());
    assert_eq!(cleared.cleared_reason, "the content was assessed");
    assert!(!cleared.cleared_by_assessment_id.is_empty());

    // Judged likely fabricated itself, the re-encoded copy flags the trimmed one as well (the
    // original, already judged fabricated, needs no flag). Revising the verdict on the original
    // clears what the original raised, and leaves the re-encoded copy's flag.
    let flagged_by = |flags: Vec<pb::ContentReviewFlag>| {
        let mut by: Vec<String> = flags.into_iter().map(|f| f.near_duplicate_sha256).collect();
        by.sort();
        by
    };
    let re_encoded_sha256 = sha256(&std::fs::read(&re_encoded_clip).unwrap());
    let mut both = vec![sha256(&video), re_encoded_sha256.clone()];
    both.sort();
    assert_eq!(
        flagged_by(review_flags_on(&mut officer, &trimmed).await),
        both
    );
    assert!(review_flags_on(&mut officer, &one).await.is_empty());
    investigator
        .assess_content(judgement(&one, pb::ContentVerdict::Authentic))
        .await
        .unwrap();
    assert_eq!(
        flagged_by(review_flags_on(&mut officer, &trimmed).await),
        [re_encoded_sha256]
    );
    let open = analyst
        .list_review_flags(pb::ListReviewFlagsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .flags;
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(open[0].cleared_reason.is_empty());
    // Now only the third allegation rests on fabricated material.
    allegations_by_material(&mut reporting, &[("only_fabricated", 1), ("other", 3)]).await;
    let revised = analyst
        .list_review_flags(pb::ListReviewFlagsRequest {
            include_cleared: true,
            sha256: sha256(&std::fs::read(&trimmed_clip).unwrap()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .flags;
    assert!(
        revised
            .iter()
            .any(|f| f.cleared_reason == "the near-duplicate is no longer judged fabricated"),
        "{revised:?}"
    );
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

async fn review_flags_on(
    intake: &mut IntakeClient,
    evidence_id: &str,
) -> Vec<pb::ContentReviewFlag> {
    intake
        .get_evidence(pb::GetEvidenceRequest {
            evidence_id: evidence_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
        .unwrap()
        .review_flags
}

async fn linked_items(app: &TestApp, case_id: &str) -> Vec<cases::LinkedEvidence> {
    app.cases()
        .await
        .list_evidence(cases::ListEvidenceRequest {
            case_id: case_id.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
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
            ..Default::default()
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

async fn listing_review_flags_refuses_bad_filters_and_other_roles(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut analyst = app.intake_as(Role::Analyst).await;
    let refused = analyst
        .list_review_flags(pb::ListReviewFlagsRequest {
            sha256: "not a digest".into(),
            page_size: -1,
            page_token: "zz".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        field_violations(&refused),
        ["sha256", "page_size", "page_token"]
    );
    let empty = analyst
        .list_review_flags(pb::ListReviewFlagsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(empty.flags.is_empty());
    assert!(empty.next_page_token.is_empty());
    let denied = app
        .intake_as(Role::PublicReporter)
        .await
        .list_review_flags(pb::ListReviewFlagsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}
