//! Merging cases: a merge goes into an open case only, so that no chain of merges can ever come
//! back to where it started, however the calls interleave. (A closed case never changes again:
//! two cases merged into each other would both be lost.)

use std::collections::HashMap;

use docket_e2e::{Backend, CaseClient, TestApp, case_message, on_every_backend};
use docket_proto::docket::cases::v1 as pb;
use tonic::Code;

use super::{get, open};

on_every_backend!(
    a_case_merged_elsewhere_takes_no_merge_and_names_where_it_went,
    two_cases_merged_into_each_other_at_once_end_with_one_merged_into_the_other,
    three_cases_merged_in_a_ring_at_once_never_close_the_ring,
);

/// How many pairs (and rings) race: enough that a missing lock shows on PostgreSQL.
const RACES: usize = 20;
/// How many of them race at the same time: few enough that a slow machine answers every call
/// within the database pool's acquire timeout.
const AT_ONCE: usize = 5;

/// Closes `case` as merged into `into`, with the etag `case` carries.
async fn merge(
    mut cases: CaseClient,
    case: pb::Case,
    into: pb::Case,
) -> Result<pb::Case, tonic::Status> {
    cases
        .transition_case(pb::TransitionCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            target_status: pb::CaseStatus::Closed.into(),
            reason: pb::CloseReason::Merged.into(),
            merged_into_case_id: into.id.clone(),
            note: format!("the same incident as {}", into.reference),
        })
        .await
        .map(|answer| answer.into_inner().r#case.unwrap())
}

/// Merges each group of `cases` in a ring (for two, into each other), the merges of `AT_ONCE`
/// groups at the same time; the answers, in the order of the cases merged.
async fn race(
    cases: &CaseClient,
    opened: &[pb::Case],
    size: usize,
) -> Vec<Result<pb::Case, tonic::Status>> {
    let mut answers = Vec::new();
    for batch in opened.chunks(size * AT_ONCE) {
        let tasks: Vec<_> = batch
            .chunks(size)
            .flat_map(|group| {
                (0..size).map(|n| {
                    let merging = merge(
                        cases.clone(),
                        group[n].clone(),
                        group[(n + 1) % size].clone(),
                    );
                    tokio::spawn(merging)
                })
            })
            .collect();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
    }
    answers
}

/// Opens `count` cases by hand.
async fn open_many(cases: &mut CaseClient, count: usize) -> Vec<pb::Case> {
    let mut opened = Vec::new();
    for n in 0..count {
        opened.push(
            open(
                cases,
                case_message(&format!("Shelling of Ganja, report {n}"), "AM"),
            )
            .await,
        );
    }
    opened
}

/// Follows every case's merges to their end; panics on a cycle. Returns how many are merged.
fn assert_no_cycle(cases: &[pb::Case]) -> usize {
    let into: HashMap<&str, &str> = cases
        .iter()
        .filter(|case| !case.merged_into_case_id.is_empty())
        .map(|case| (case.id.as_str(), case.merged_into_case_id.as_str()))
        .collect();
    for case in cases {
        let mut at = case.id.as_str();
        for _ in 0..=cases.len() {
            match into.get(at) {
                Some(next) => at = next,
                None => break,
            }
        }
        assert!(
            !into.contains_key(at),
            "the merges from {} go round in a cycle",
            case.reference
        );
    }
    for case in cases {
        if let Some(target) = into.get(case.id.as_str()) {
            assert_eq!(case.status(), pb::CaseStatus::Closed);
            assert_eq!(case.close_reason(), pb::CloseReason::Merged);
            assert!(cases.iter().any(|c| c.id == *target));
        }
    }
    into.len()
}

async fn a_case_merged_elsewhere_takes_no_merge_and_names_where_it_went(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let [kept, merged, late] = open_many(&mut cases, 3).await.try_into().unwrap();
    merge(cases.clone(), merged.clone(), kept.clone())
        .await
        .unwrap();

    let refused = merge(cases.clone(), late.clone(), merged.clone())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains(&merged.reference)
            && refused
                .message()
                .contains(&format!("merged into {}", kept.reference)),
        "the refusal names the case the target went into: {}",
        refused.message()
    );
    assert_eq!(get(&mut cases, &late.id).await, late, "nothing changed");
    // Merging into the case that lives on works.
    let joined = merge(cases.clone(), late.clone(), kept.clone())
        .await
        .unwrap();
    assert_eq!(joined.merged_into_case_id, kept.id);
    app.stop().await;
}

async fn two_cases_merged_into_each_other_at_once_end_with_one_merged_into_the_other(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let opened = open_many(&mut cases, 2 * RACES).await;
    let answers = race(&cases, &opened, 2).await;

    for (pair, answer) in opened.chunks(2).zip(answers.chunks(2)) {
        let codes: Vec<Code> = answer
            .iter()
            .map(|a| a.as_ref().map_or_else(tonic::Status::code, |_| Code::Ok))
            .collect();
        assert!(
            codes == [Code::Ok, Code::FailedPrecondition]
                || codes == [Code::FailedPrecondition, Code::Ok],
            "{} and {} merged into each other: {answer:?}",
            pair[0].reference,
            pair[1].reference,
        );
    }
    let mut now = Vec::new();
    for case in &opened {
        now.push(get(&mut cases, &case.id).await);
    }
    assert_eq!(assert_no_cycle(&now), RACES, "one case of each pair merged");
    app.stop().await;
}

async fn three_cases_merged_in_a_ring_at_once_never_close_the_ring(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let opened = open_many(&mut cases, 3 * RACES).await;
    let answers = race(&cases, &opened, 3).await;

    let mut now = Vec::new();
    for case in &opened {
        now.push(get(&mut cases, &case.id).await);
    }
    for (ring, answer) in now.chunks(3).zip(answers.chunks(3)) {
        let refused = answer
            .iter()
            .filter(|a| {
                a.as_ref()
                    .is_err_and(|e| e.code() == Code::FailedPrecondition)
            })
            .count();
        let merged = answer.iter().filter(|a| a.is_ok()).count();
        assert_eq!(
            merged + refused,
            3,
            "every merge is done or refused: {answer:?}"
        );
        assert!(refused >= 1, "the ring was closed: {answer:?}");
        let closed = ring
            .iter()
            .filter(|c| c.status() == pb::CaseStatus::Closed)
            .count();
        assert_eq!(
            closed, merged,
            "the cases closed are the merges answered OK"
        );
        assert_no_cycle(ring);
    }
    app.stop().await;
}
