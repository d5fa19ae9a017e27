//! A rejected allegation reopened and accepted into an existing case: its victims are added to
//! the case's figures once, in case management and in reporting, however often intake delivers
//! it; a case that does not exist or is closed is refused before anything is written.

use std::time::Duration;

use docket_e2e::{
    Backend, CaseClient, ReportingClient, TestApp, accept_new, allegation, case_message, cases_of,
    on_every_backend,
};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::reporting::v1 as rep;
use tonic::Code;

use super::{
    allegation as current, allegation_changes, case as case_now, case_changes, casualties, field,
    register,
};

on_every_backend!(
    a_reopened_allegation_joins_a_case_and_its_victims_count_once,
    an_allegation_cannot_join_a_case_that_is_unknown_or_closed,
    a_case_merged_or_closed_before_the_delivery_still_gets_the_allegation_a_case,
);

/// Two elderly women killed and an adult woman killed, in the same street: other victims of the
/// same shelling, reported by another source.
fn related() -> pb::Allegation {
    let mut related = allegation();
    related.victims = vec![
        common::VictimGroup {
            count: 1,
            status: common::VictimStatus::Civilian.into(),
            harm: common::Harm::Killed.into(),
            age_group: common::AgeGroup::Adult.into(),
            sex: common::Sex::Female.into(),
            ..Default::default()
        },
        common::VictimGroup {
            count: 2,
            status: common::VictimStatus::Civilian.into(),
            harm: common::Harm::Killed.into(),
            age_group: common::AgeGroup::Elderly.into(),
            sex: common::Sex::Female.into(),
            ..Default::default()
        },
    ];
    related
}

/// Victims and cases as reporting counts them, once they are `victims` and `cases`.
async fn counted(reporting: &mut ReportingClient, victims: i64, cases: i64) {
    let total = |measure: rep::Measure| {
        let mut reporting = reporting.clone();
        async move {
            reporting
                .query_statistics(rep::QueryStatisticsRequest {
                    measure: measure.into(),
                    group_by: vec![],
                    filters: vec![],
                    audience: rep::Audience::Internal.into(),
                    include_uncounted: false,
                })
                .await
                .unwrap()
                .into_inner()
                .total
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (v, c) = (
            total(rep::Measure::Victims).await,
            total(rep::Measure::Cases).await,
        );
        if (v, c) == (victims, cases) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "reporting counts {v} victims in {c} cases, not {victims} in {cases}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_reopened_allegation_joins_a_case_and_its_victims_count_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let mut investigator = app.cases().await;
    let mut reporting = app.reporting_as(Role::Analyst).await;
    let first = accept_new(&mut intake).await;
    let case = cases_of(&mut investigator, &first).await.remove(0);
    counted(&mut reporting, 3, 1).await;

    // A second source reports three more dead in the same street. Rejected at first as a
    // duplicate report, it is reopened once the names show they are other people.
    let second = register(&mut intake, related()).await;
    let rejected = intake
        .reject_allegation(pb::RejectAllegationRequest {
            id: second.id.clone(),
            reason: "Same shelling as ALG already accepted.".into(),
            message_for_source: "Already under investigation.".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    let reopened = intake
        .reopen_allegation(pb::ReopenAllegationRequest {
            id: second.id.clone(),
            etag: rejected.etag.clone(),
            reason: "The victims named are not those of the first report.".into(),
            message_for_source: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(reopened.status(), pb::AllegationStatus::UnderReview);
    assert_eq!(reopened.reviewed_by, "officer.aliyev");
    assert!(reopened.rejection_reason.is_empty() && reopened.message_for_source.is_empty());
    let again = intake
        .reopen_allegation(pb::ReopenAllegationRequest {
            id: second.id.clone(),
            reason: "Twice.".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");

    let joined = intake
        .accept_allegation(pb::AcceptAllegationRequest {
            id: second.id.clone(),
            join_case_id: case.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(joined.joined_case_id, case.id);

    // Delivered, it joins the case, and its victims join the case's figures.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let grown = loop {
        let now = case_now(&mut investigator, &case.id).await;
        if now.allegation_ids.len() == 2 {
            break now;
        }
        assert!(tokio::time::Instant::now() < deadline, "never delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(grown.allegation_ids, [first.clone(), second.id.clone()]);
    assert_eq!(casualties(&grown), 6);
    assert_eq!(cases_of(&mut investigator, &second.id).await[0].id, case.id);
    counted(&mut reporting, 6, 1).await;

    // Delivered again, as a dispatcher that crashed before recording its success would: nothing
    // is added twice, here or in reporting.
    let mut dispatcher = app.cases_as(Role::Service).await;
    for _ in 0..2 {
        let repeated = dispatcher
            .receive_allegation(cases::ReceiveAllegationRequest {
                allegation: Some(cases::AllegationSnapshot::from(&joined)),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!repeated.created);
        assert_eq!(casualties(&repeated.r#case.unwrap()), 6);
    }
    // A later change shows reporting has applied everything before it, the repeats included.
    accept_new(&mut intake).await;
    counted(&mut reporting, 9, 2).await;

    // The case's history says what the allegation added; the allegation's, how it got there.
    let changes = case_changes(&mut investigator, &case.id).await;
    let join = changes
        .iter()
        .find(|c| c.action == "join allegation to case")
        .unwrap();
    assert_eq!(join.changed_by, "intake");
    let victims = field(join, "victims");
    assert_eq!(
        victims.old_value,
        "2 civilian killed adult female; 1 civilian injured child male"
    );
    assert_eq!(
        victims.new_value,
        "3 civilian killed adult female; 1 civilian injured child male; \
         2 civilian killed elderly female"
    );
    assert!(
        field(join, "allegations")
            .new_value
            .contains(&second.reference)
    );
    let history = allegation_changes(&mut intake, &second.id).await;
    let actions: Vec<&str> = history.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "reject allegation",
            "reopen allegation",
            "accept allegation"
        ]
    );
    assert_eq!(history[0].reason, "Same shelling as ALG already accepted.");
    assert_eq!(
        history[1].reason,
        "The victims named are not those of the first report."
    );
    assert_eq!(
        field(&history[1], "rejection_reason").old_value,
        "Same shelling as ALG already accepted."
    );
    assert_eq!(field(&history[2], "joined_case_id").new_value, case.id);
    app.stop().await;
}

async fn an_allegation_cannot_join_a_case_that_is_unknown_or_closed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let mut investigator = app.cases().await;
    let first = accept_new(&mut intake).await;
    let case = cases_of(&mut investigator, &first).await.remove(0);
    let waiting = register(&mut intake, related()).await;
    let join = |case_id: String| pb::AcceptAllegationRequest {
        id: waiting.id.clone(),
        join_case_id: case_id,
        ..Default::default()
    };

    let unknown = intake
        .accept_allegation(join(uuid::Uuid::now_v7().to_string()))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");

    investigator
        .transition_case(cases::TransitionCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            target_status: cases::CaseStatus::Closed.into(),
            reason: cases::CloseReason::InsufficientEvidence.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let closed = intake
        .accept_allegation(join(case.id.clone()))
        .await
        .unwrap_err();
    assert_eq!(closed.code(), Code::FailedPrecondition, "{closed:?}");
    assert!(closed.message().contains(&case.reference), "{closed:?}");

    assert_eq!(
        current(&mut intake, &waiting.id).await,
        waiting,
        "nothing was written"
    );
    assert!(
        allegation_changes(&mut intake, &waiting.id)
            .await
            .is_empty()
    );
    app.stop().await;
}

async fn a_case_merged_or_closed_before_the_delivery_still_gets_the_allegation_a_case(
    backend: Backend,
) {
    let Some(mut app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let mut investigator = app.cases().await;
    let surviving = open(&mut investigator, "Shelling of Ganja, October 2020").await;
    let merging = open(&mut investigator, "Shelling of Shahriyar street").await;
    let dismissing = open(&mut investigator, "Reported shelling of a school").await;

    // Case management cannot reach intake for a while: deliveries wait in intake's outbox,
    // while the cases they were accepted into are checked open and then closed.
    let unreachable = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    app.stop_case_management().await;
    app.start_case_management_with(|settings| settings.intake.url = Some(unreachable))
        .await;
    let mut investigator = app.cases().await;
    let into_merged = accepted_into(&mut intake, &merging).await;
    let into_dismissed = accepted_into(&mut intake, &dismissing).await;
    close(
        &mut investigator,
        &merging,
        cases::CloseReason::Merged,
        Some(&surviving),
    )
    .await;
    close(
        &mut investigator,
        &dismissing,
        cases::CloseReason::NotACrime,
        None,
    )
    .await;
    let dismissed = case_now(&mut investigator, &dismissing.id).await;
    app.stop_case_management().await;
    app.start_case_management().await;
    let mut investigator = app.cases().await;

    // Accepted into a case merged meanwhile: it joins the case that case was merged into.
    let joined = cases_of(&mut investigator, &into_merged).await.remove(0);
    assert_eq!(joined.id, surviving.id);
    assert_eq!(casualties(&joined), casualties(&surviving) + 3);

    // Accepted into a case closed otherwise: nothing is lost, it gets a case of its own, whose
    // opening says why, and the closed case stays as it was.
    let own = cases_of(&mut investigator, &into_dismissed).await.remove(0);
    assert_ne!(own.id, dismissing.id);
    assert_eq!(own.allegation_ids, std::slice::from_ref(&into_dismissed));
    assert_eq!(casualties(&own), 3);
    let opening = investigator
        .list_case_history(cases::ListCaseHistoryRequest {
            case_id: own.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .changes
        .remove(0);
    assert!(
        opening.note.contains(&dismissing.reference) && opening.note.contains("closed"),
        "{}",
        opening.note
    );
    assert_eq!(case_now(&mut investigator, &dismissing.id).await, dismissed);
    app.stop().await;
}

/// Opens a case by hand.
async fn open(cases: &mut CaseClient, title: &str) -> cases::Case {
    cases
        .open_case(cases::OpenCaseRequest {
            r#case: Some(case_message(title, "AM")),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap()
}

/// Closes `case` for `reason`, merged into `into` when given.
async fn close(
    cases: &mut CaseClient,
    case: &cases::Case,
    reason: cases::CloseReason,
    into: Option<&cases::Case>,
) {
    let case = case_now(cases, &case.id).await;
    cases
        .transition_case(cases::TransitionCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            target_status: cases::CaseStatus::Closed.into(),
            reason: reason.into(),
            merged_into_case_id: into.map(|c| c.id.clone()).unwrap_or_default(),
            note: String::new(),
        })
        .await
        .unwrap();
}

/// Submits the standard allegation and accepts it into `case`; returns its id.
async fn accepted_into(intake: &mut docket_e2e::IntakeClient, case: &cases::Case) -> String {
    let id = register(intake, allegation()).await.id;
    intake
        .accept_allegation(pb::AcceptAllegationRequest {
            id: id.clone(),
            join_case_id: case.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    id
}
