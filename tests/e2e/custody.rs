//! Custody a court can read: every link of an item to a case, and every unlinking with its
//! reason, is in the item's chain of custody in intake; an allegation's evidence follows it into
//! the case it opens or joins, with the same events.

use std::time::Duration;

use docket_e2e::{
    Backend, IntakeClient, TestApp, accept, allegation, case_message, cases_of, field_violations,
    on_every_backend, submit,
};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as pb;
use tonic::Code;

use crate::evidence::{metadata, sha256, upload};

on_every_backend!(
    linking_and_unlinking_are_in_the_chain_of_custody_and_an_unlinking_needs_a_reason,
    an_unlinking_while_intake_is_down_reaches_the_chain_when_it_is_back,
    an_allegations_evidence_follows_it_into_the_case_it_opens_and_the_case_it_joins,
    a_custody_notice_delivered_twice_is_recorded_once,
    a_custody_report_holds_the_chain_in_order_and_one_flipped_byte_fails_it,
);

/// The custody events of evidence `id` of `kind`, once there are `count` of them (or after
/// 20 s: as many as there are).
async fn events_of(
    intake: &mut IntakeClient,
    id: &str,
    kind: pb::CustodyEventKind,
    count: usize,
) -> Vec<pb::CustodyEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let found: Vec<pb::CustodyEvent> = intake
            .list_custody_events(pb::ListCustodyEventsRequest {
                evidence_id: id.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .events
            .into_iter()
            .filter(|e| e.kind() == kind)
            .collect();
        if found.len() >= count || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn open_case(app: &TestApp) -> cases::Case {
    app.cases()
        .await
        .open_case(cases::OpenCaseRequest {
            r#case: Some(case_message("Execution of prisoners of war", "AZ")),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap()
}

fn link(case_id: &str, evidence_id: &str, reason: &str) -> cases::LinkEvidenceRequest {
    cases::LinkEvidenceRequest {
        case_id: case_id.to_owned(),
        etag: String::new(),
        evidence_id: evidence_id.to_owned(),
        description: "Video: execution of two prisoners".into(),
        reason: reason.into(),
    }
}

async fn linked_ids(app: &TestApp, case_id: &str) -> Vec<String> {
    app.cases()
        .await
        .list_evidence(cases::ListEvidenceRequest {
            case_id: case_id.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
        .into_iter()
        .map(|e| e.evidence_id)
        .collect()
}

async fn linking_and_unlinking_are_in_the_chain_of_custody_and_an_unlinking_needs_a_reason(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let mut auditor = app.intake_as(Role::Auditor).await;
    let case = open_case(&app).await;
    let video = app.stored_evidence(b"a video of the execution").await;

    let linked = investigator
        .link_evidence(link(&case.id, &video, "Shows the shooting at the quarry."))
        .await
        .unwrap()
        .into_inner();
    // Linking it again changes nothing, and records nothing more.
    investigator
        .link_evidence(link(&case.id, &video, ""))
        .await
        .unwrap();
    let events = events_of(&mut auditor, &video, pb::CustodyEventKind::LinkedToCase, 1).await;
    assert_eq!(events.len(), 1, "one link, one event: {events:?}");
    let event = &events[0];
    assert_eq!(event.actor, "investigator.mammadov");
    assert_eq!(event.case_id, case.id);
    assert_eq!(event.sha256, sha256(b"a video of the execution"));
    assert!(event.note.contains(&case.reference), "{}", event.note);
    assert!(
        event.note.contains("Shows the shooting at the quarry."),
        "{}",
        event.note
    );
    assert_eq!(
        event.occurred_time,
        linked.evidence.as_ref().unwrap().linked_at,
        "the event is dated when the link committed"
    );

    // Without a reason: refused, and nothing is written anywhere.
    let before = app
        .cases()
        .await
        .get_case(cases::GetCaseRequest {
            case_id: case.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let refused = investigator
        .unlink_evidence(cases::UnlinkEvidenceRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            evidence_id: video.clone(),
            reason: "  ".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&refused), vec!["reason".to_owned()]);
    let after = app
        .cases()
        .await
        .get_case(cases::GetCaseRequest {
            case_id: case.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(
        after.etag, before.etag,
        "the refused unlinking wrote nothing"
    );
    assert_eq!(linked_ids(&app, &case.id).await, vec![video.clone()]);

    investigator
        .unlink_evidence(cases::UnlinkEvidenceRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            evidence_id: video.clone(),
            reason: "Linked to the wrong case: the quarry is in the other district.".into(),
        })
        .await
        .unwrap();
    assert!(linked_ids(&app, &case.id).await.is_empty());
    let unlinked = events_of(
        &mut auditor,
        &video,
        pb::CustodyEventKind::UnlinkedFromCase,
        1,
    )
    .await;
    assert_eq!(unlinked.len(), 1, "{unlinked:?}");
    assert_eq!(unlinked[0].actor, "investigator.mammadov");
    assert_eq!(unlinked[0].case_id, case.id);
    assert!(
        unlinked[0]
            .note
            .contains("Linked to the wrong case: the quarry is in the other district."),
        "{}",
        unlinked[0].note
    );
    // Linked again: a second link event, after the unlinking.
    investigator
        .link_evidence(link(&case.id, &video, ""))
        .await
        .unwrap();
    let relinked = events_of(&mut auditor, &video, pb::CustodyEventKind::LinkedToCase, 2).await;
    assert_eq!(relinked.len(), 2, "{relinked:?}");
    let seconds = |event: &pb::CustodyEvent| {
        let time = event.occurred_time.unwrap();
        (time.seconds, time.nanos)
    };
    assert!(seconds(&relinked[1]) > seconds(&unlinked[0]));
    app.stop().await;
}

async fn an_unlinking_while_intake_is_down_reaches_the_chain_when_it_is_back(backend: Backend) {
    let Some(mut app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let case = open_case(&app).await;
    let video = app.stored_evidence(b"a video sent by a soldier").await;
    investigator
        .link_evidence(link(&case.id, &video, ""))
        .await
        .unwrap();
    let mut auditor = app.intake_as(Role::Auditor).await;
    assert_eq!(
        events_of(&mut auditor, &video, pb::CustodyEventKind::LinkedToCase, 1)
            .await
            .len(),
        1
    );

    app.stop_intake().await;
    // Case management does not need intake to unlink: the notice waits in its outbox.
    investigator
        .unlink_evidence(cases::UnlinkEvidenceRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            evidence_id: video.clone(),
            reason: "The soldier's unit is not a party to this case.".into(),
        })
        .await
        .unwrap();
    app.start_intake().await;
    let mut auditor = app.intake_as(Role::Auditor).await;
    let unlinked = events_of(
        &mut auditor,
        &video,
        pb::CustodyEventKind::UnlinkedFromCase,
        1,
    )
    .await;
    assert_eq!(unlinked.len(), 1, "the notice arrived once intake was back");
    assert!(unlinked[0].note.contains("not a party to this case"));
    app.stop().await;
}

async fn an_allegations_evidence_follows_it_into_the_case_it_opens_and_the_case_it_joins(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    let first = submit(&mut officer, allegation()).await;
    let mut uploaded = Vec::new();
    for (name, bytes) in [
        ("execution.mp4", &b"the execution, filmed from the roof"[..]),
        ("aftermath.jpg", &b"the bodies at the quarry"[..]),
    ] {
        let mut meta = metadata(&first, "");
        meta.file_name = name.into();
        uploaded.push(
            upload(&mut officer, meta, bytes, 1024)
                .await
                .unwrap()
                .evidence
                .unwrap(),
        );
    }
    accept(&mut officer, &first).await;
    let mut investigator = app.cases().await;
    let case = cases_of(&mut investigator, &first).await.remove(0);
    let mut ids = linked_ids(&app, &case.id).await;
    ids.sort();
    let mut expected: Vec<String> = uploaded.iter().map(|e| e.id.clone()).collect();
    expected.sort();
    assert_eq!(ids, expected, "the allegation's evidence is the case's");

    let reference = officer
        .get_allegation(pb::GetAllegationRequest { id: first.clone() })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
        .reference;
    let mut auditor = app.intake_as(Role::Auditor).await;
    for item in &uploaded {
        let events = events_of(
            &mut auditor,
            &item.id,
            pb::CustodyEventKind::LinkedToCase,
            1,
        )
        .await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].case_id, case.id);
        assert!(events[0].note.contains(&case.reference));
        assert!(events[0].note.contains(&reference), "{}", events[0].note);
    }
    let listed = investigator
        .list_evidence(cases::ListEvidenceRequest {
            case_id: case.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert!(
        listed
            .iter()
            .any(|e| e.description.contains("execution.mp4") && e.description.contains(&reference)),
        "{listed:?}"
    );

    // A related report joins the case, its evidence with it.
    let second = submit(&mut officer, allegation()).await;
    let photo = upload(
        &mut officer,
        metadata(&second, ""),
        b"a photograph of the quarry",
        1024,
    )
    .await
    .unwrap()
    .evidence
    .unwrap();
    officer
        .accept_allegation(pb::AcceptAllegationRequest {
            id: second.clone(),
            join_case_id: case.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !linked_ids(&app, &case.id).await.contains(&photo.id) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the joining allegation's evidence never reached the case"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = events_of(
        &mut auditor,
        &photo.id,
        pb::CustodyEventKind::LinkedToCase,
        1,
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].case_id, case.id);
    app.stop().await;
}

async fn a_custody_notice_delivered_twice_is_recorded_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let video = app.stored_evidence(b"a video delivered twice").await;
    let mut service = app.intake_as(Role::Service).await;
    let notice = pb::RecordCaseCustodyRequest {
        custody_id: uuid::Uuid::now_v7().to_string(),
        evidence_id: video.clone(),
        case_id: uuid::Uuid::now_v7().to_string(),
        case_reference: "CASE-2026-000042".into(),
        action: pb::CaseCustodyAction::Unlinked.into(),
        actor: "investigator.mammadov".into(),
        occurred_time: Some(prost_types::Timestamp {
            seconds: 1_780_000_000,
            nanos: 0,
        }),
        reason: "Wrong case.".into(),
    };
    let first = service
        .record_case_custody(notice.clone())
        .await
        .unwrap()
        .into_inner()
        .event
        .unwrap();
    let again = service
        .record_case_custody(notice.clone())
        .await
        .unwrap()
        .into_inner()
        .event
        .unwrap();
    assert_eq!(first, again);
    let mut auditor = app.intake_as(Role::Auditor).await;
    let events = events_of(
        &mut auditor,
        &video,
        pb::CustodyEventKind::UnlinkedFromCase,
        1,
    )
    .await;
    assert_eq!(events, vec![first]);

    // An unlinking without a reason, or the same id for another item, is refused.
    let refused = service
        .record_case_custody(pb::RecordCaseCustodyRequest {
            custody_id: uuid::Uuid::now_v7().to_string(),
            reason: String::new(),
            ..notice.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&refused), vec!["reason".to_owned()]);
    let other = app.stored_evidence(b"another video").await;
    let refused = service
        .record_case_custody(pb::RecordCaseCustodyRequest {
            evidence_id: other,
            ..notice.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    // Only case management (the `service` role) records links.
    let denied = app
        .intake_as(Role::Investigator)
        .await
        .record_case_custody(notice)
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    app.stop().await;
}

async fn a_custody_report_holds_the_chain_in_order_and_one_flipped_byte_fails_it(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let case = open_case(&app).await;
    let video = app.stored_evidence(b"a video for the court").await;
    investigator
        .link_evidence(link(&case.id, &video, "Central to the charge."))
        .await
        .unwrap();
    investigator
        .unlink_evidence(cases::UnlinkEvidenceRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            evidence_id: video.clone(),
            reason: "Moved to the related case.".into(),
        })
        .await
        .unwrap();
    let mut prosecutor = app.intake_as(Role::Prosecutor).await;
    events_of(
        &mut prosecutor,
        &video,
        pb::CustodyEventKind::UnlinkedFromCase,
        1,
    )
    .await;
    prosecutor
        .download_evidence(pb::DownloadEvidenceRequest {
            evidence_id: video.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .message()
        .await
        .unwrap();
    let answer = prosecutor
        .export_custody_report(pb::ExportCustodyReportRequest {
            evidence_id: video.clone(),
        })
        .await
        .unwrap()
        .into_inner();

    let verified =
        docket_platform::signed_file::verify(&answer.report, Some(&answer.public_key)).unwrap();
    assert_eq!(verified.document_sha256, answer.document_sha256);
    let report: serde_json::Value = serde_json::from_slice(&verified.document).unwrap();
    assert_eq!(report["format"], "docket.custody-report.v1");
    assert_eq!(report["evidence"]["id"], video.as_str());
    assert_eq!(
        report["evidence"]["sha256"],
        sha256(b"a video for the court").as_str()
    );
    let events = report["custody_events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "CUSTODY_EVENT_KIND_COLLECTED",
            "CUSTODY_EVENT_KIND_UPLOADED",
            "CUSTODY_EVENT_KIND_LINKED_TO_CASE",
            "CUSTODY_EVENT_KIND_UNLINKED_FROM_CASE",
            "CUSTODY_EVENT_KIND_ACCESSED",
        ],
        "the chain in the order it happened"
    );
    let times: Vec<&str> = events
        .iter()
        .map(|e| e["occurred_time"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_unstable();
    assert_eq!(times, sorted);
    assert!(
        events[3]["note"]
            .as_str()
            .unwrap()
            .contains("Moved to the related case.")
    );
    assert_eq!(report["cases"][0]["case_id"], case.id.as_str());
    assert_eq!(report["cases"][0]["linked_now"], false);

    // One flipped byte anywhere in the report breaks it.
    for at in [0, answer.report.len() / 3, verified.document.len() - 1] {
        let mut altered = answer.report.to_vec();
        altered[at] ^= 0x20;
        assert!(
            docket_platform::signed_file::verify(&altered, None).is_err(),
            "byte {at} flipped still verifies"
        );
    }
    // Exports are disclosures: audited, and not for every role.
    let denied = app
        .intake_as(Role::Analyst)
        .await
        .export_custody_report(pb::ExportCustodyReportRequest {
            evidence_id: video.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    app.stop().await;
}
