//! Event streams: every committed change once, in order, without gaps, also while many writers
//! commit at once; a reader resumes exactly after the last event it applied.

use std::collections::HashSet;
use std::time::Duration;

use docket_e2e::{Backend, TestApp, accept_new, allegation, on_every_backend, submit_request};
use docket_platform::auth::Role;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::events::v1::event_payload::Kind;
use docket_proto::docket::intake::v1 as pb;

on_every_backend!(a_follower_sees_every_event_of_concurrent_writers_once_and_in_order);

const WRITERS: usize = 12;
const PER_WRITER: usize = 8;

async fn a_follower_sees_every_event_of_concurrent_writers_once_and_in_order(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Follow from the start, before anything is written.
    let mut events = app.events_as(app.intake_addr, Role::Service).await;
    let mut stream = events
        .stream_events(ev::StreamEventsRequest {
            after_sequence: 0,
            follow: true,
        })
        .await
        .unwrap()
        .into_inner();

    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let mut intake = app.intake().await;
        writers.spawn(async move {
            let mut ids = Vec::new();
            for i in 0..PER_WRITER {
                let answer = intake
                    .submit_allegation(submit_request(allegation()))
                    .await
                    .unwrap();
                let id = answer.into_inner().allegation.unwrap().id;
                if (writer + i) % 3 == 0 {
                    intake
                        .accept_allegation(pb::AcceptAllegationRequest {
                            id: id.clone(),
                            ..Default::default()
                        })
                        .await
                        .unwrap();
                }
                ids.push(id);
            }
            ids
        });
    }
    let mut submitted = HashSet::new();
    while let Some(ids) = writers.join_next().await {
        submitted.extend(ids.unwrap());
    }
    let accepted = (0..WRITERS)
        .flat_map(|w| (0..PER_WRITER).map(move |i| (w + i) % 3 == 0))
        .filter(|accepted| *accepted)
        .count();
    let expected = submitted.len() + accepted;

    let mut seen = Vec::new();
    while seen.len() < expected {
        let next = tokio::time::timeout(Duration::from_secs(20), stream.message())
            .await
            .expect("the follower keeps receiving events")
            .unwrap()
            .expect("the stream stays open");
        seen.push(next.event.unwrap());
    }
    let sequences: Vec<i64> = seen.iter().map(|e| e.sequence).collect();
    assert_eq!(
        sequences,
        (1..=expected as i64).collect::<Vec<_>>(),
        "in order, no gaps, no repeats"
    );
    let recorded: Vec<String> = seen
        .iter()
        .filter_map(|e| {
            let Kind::AllegationRecorded(r) = e.payload.as_ref()?.kind.as_ref()? else {
                return None;
            };
            Some(r.allegation_id.clone())
        })
        .collect();
    assert_eq!(recorded.len(), submitted.len());
    assert_eq!(recorded.iter().cloned().collect::<HashSet<_>>(), submitted);
    // Each acceptance comes after the allegation's own record.
    for (position, event) in seen.iter().enumerate() {
        if let Some(Kind::AllegationStatusChanged(changed)) =
            event.payload.as_ref().and_then(|p| p.kind.as_ref())
        {
            assert_eq!(changed.status, "ALLEGATION_STATUS_ACCEPTED");
            assert!(recorded[..].contains(&changed.allegation_id));
            let recorded_at = seen
                .iter()
                .position(|e| matches!(e.payload.as_ref().and_then(|p| p.kind.as_ref()), Some(Kind::AllegationRecorded(r)) if r.allegation_id == changed.allegation_id))
                .unwrap();
            assert!(recorded_at < position);
        }
    }

    // A reader that resumes after event 10 gets exactly the rest.
    let mut resumed = events
        .stream_events(ev::StreamEventsRequest {
            after_sequence: 10,
            follow: false,
        })
        .await
        .unwrap()
        .into_inner();
    let mut rest = Vec::new();
    while let Some(message) = resumed.message().await.unwrap() {
        rest.push(message.event.unwrap().sequence);
    }
    assert_eq!(rest, (11..=expected as i64).collect::<Vec<_>>());

    // Events carry no identities or narratives.
    for event in &seen {
        let text = format!("{event:?}");
        assert!(
            !text.contains("Leyla") && !text.contains("Shahriyar street. Two"),
            "{text}"
        );
    }
    drop(stream);
    app.stop().await;
}

on_every_backend!(case_management_publishes_each_change_of_a_case_as_a_snapshot);

async fn case_management_publishes_each_change_of_a_case_as_a_snapshot(backend: Backend) {
    use docket_proto::docket::cases::v1 as cases;

    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let id = accept_new(&mut intake).await;

    let mut events = app.events_as(app.case_management_addr, Role::Service).await;
    let mut stream = events
        .stream_events(ev::StreamEventsRequest {
            after_sequence: 0,
            follow: true,
        })
        .await
        .unwrap()
        .into_inner();
    let (first, opened) = next_snapshot(&mut stream).await;
    assert_eq!(first, 1);
    assert_eq!(opened.allegation_ids, vec![id.clone()]);
    assert_eq!(opened.status, "CASE_STATUS_OPEN");
    assert_eq!(opened.party_codes, ["AM"]);
    assert_eq!(opened.victims.iter().map(|g| g.count).sum::<i32>(), 3);

    let mut case_client = app.cases().await;
    let case = case_client
        .get_case(cases::GetCaseRequest {
            case_id: opened.case_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap();
    case_client
        .transition_case(cases::TransitionCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            target_status: cases::CaseStatus::UnderInvestigation.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (second, moved) = next_snapshot(&mut stream).await;
    assert_eq!(second, 2);
    assert_eq!(moved.case_id, opened.case_id);
    assert_eq!(moved.status, "CASE_STATUS_UNDER_INVESTIGATION");
    drop(stream);
    app.stop().await;
}

/// The next event of `stream`, which must be a case snapshot.
async fn next_snapshot(
    stream: &mut tonic::Streaming<ev::StreamEventsResponse>,
) -> (i64, ev::CaseChanged) {
    let message = tokio::time::timeout(Duration::from_secs(20), stream.message())
        .await
        .expect("case management publishes the change")
        .unwrap()
        .unwrap();
    let event = message.event.unwrap();
    let Some(Kind::CaseChanged(case)) = event.payload.unwrap().kind else {
        panic!("case management publishes case snapshots")
    };
    (event.sequence, case)
}
