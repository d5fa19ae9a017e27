//! Reporting: figures from the projections of both services' events, exact for the office,
//! suppressed where small for the public, and the same after a restart.

mod old_shape;
mod register;
mod rendered;
mod restart;
mod scale;
mod seed;
mod situation;
mod what_counts;

use std::time::Duration;

use docket_e2e::{Backend, ReportingClient, TestApp, allegation, on_every_backend, submit_request};
use docket_platform::auth::Role;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::reporting::v1 as rep;
use tonic::Code;

on_every_backend!(figures_follow_intake_and_case_management_and_survive_a_restart);

async fn ask(
    client: &mut ReportingClient,
    measure: rep::Measure,
    group_by: &[rep::Dimension],
    filters: Vec<rep::Filter>,
    audience: rep::Audience,
) -> rep::QueryStatisticsResponse {
    client
        .query_statistics(rep::QueryStatisticsRequest {
            measure: measure.into(),
            group_by: group_by.iter().map(|d| (*d).into()).collect(),
            filters,
            audience: audience.into(),
            include_uncounted: false,
        })
        .await
        .unwrap()
        .into_inner()
}

fn rows(answer: &rep::QueryStatisticsResponse) -> Vec<(Vec<String>, i64, bool)> {
    answer
        .rows
        .iter()
        .map(|r| (r.keys.clone(), r.value, r.suppressed))
        .collect()
}

fn keys(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// Waits until reporting counts `cases` cases and `allegations` allegations, the last of
/// them decided.
async fn settled(client: &mut ReportingClient, cases: i64, allegations: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let counted = ask(
            client,
            rep::Measure::Cases,
            &[],
            vec![],
            rep::Audience::Internal,
        )
        .await
        .total;
        let received = ask(
            client,
            rep::Measure::Allegations,
            &[],
            vec![rep::Filter {
                dimension: rep::Dimension::AllegationStatus.into(),
                values: vec!["ALLEGATION_STATUS_RECEIVED".into()],
            }],
            rep::Audience::Internal,
        )
        .await
        .total;
        let all = ask(
            client,
            rep::Measure::Allegations,
            &[],
            vec![],
            rep::Audience::Internal,
        )
        .await
        .total;
        if counted == cases && all == allegations && received == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "projections did not catch up: {counted} cases, {all} allegations, {received} undecided"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn figures_follow_intake_and_case_management_and_survive_a_restart(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let submit = |sent: pb::Allegation| {
        let mut intake = intake.clone();
        async move {
            intake
                .submit_allegation(submit_request(sent))
                .await
                .unwrap()
                .into_inner()
                .allegation
                .unwrap()
                .id
        }
    };
    // Shelling attributed to AM: two women killed, a boy injured.
    let shelling = submit(allegation()).await;
    // An execution of two prisoners of war attributed to AZ.
    let mut execution = allegation();
    execution.violation_types = vec![common::ViolationType::Killing.into()];
    execution.alleged_perpetrators[0].party_code = "AZ".into();
    execution.location.as_mut().unwrap().place_name = "Hadrut".into();
    execution.victims = vec![common::VictimGroup {
        count: 2,
        status: common::VictimStatus::PrisonerOfWar.into(),
        harm: common::Harm::Killed.into(),
        age_group: common::AgeGroup::Adult.into(),
        sex: common::Sex::Male.into(),
        ..Default::default()
    }];
    let execution = submit(execution).await;
    let repeat = submit(allegation()).await;
    let rumour = submit(allegation()).await;
    for id in [&shelling, &execution] {
        intake
            .accept_allegation(pb::AcceptAllegationRequest {
                id: id.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    intake
        .mark_duplicate(pb::MarkDuplicateRequest {
            id: repeat,
            duplicate_of_id: shelling,
            ..Default::default()
        })
        .await
        .unwrap();
    intake
        .reject_allegation(pb::RejectAllegationRequest {
            id: rumour,
            reason: "No corroboration.".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    let mut analyst = app.reporting_as(Role::Analyst).await;
    settled(&mut analyst, 2, 4).await;
    let check = |mut analyst: ReportingClient| async move {
        use rep::Audience::Internal;
        use rep::Dimension as D;
        use rep::Measure as M;
        let by_status = ask(
            &mut analyst,
            M::Allegations,
            &[D::AllegationStatus],
            vec![],
            Internal,
        )
        .await;
        assert_eq!(by_status.total, 4);
        assert_eq!(
            rows(&by_status),
            vec![
                (keys(&["ALLEGATION_STATUS_ACCEPTED"]), 2, false),
                (keys(&["ALLEGATION_STATUS_DUPLICATE"]), 1, false),
                (keys(&["ALLEGATION_STATUS_REJECTED"]), 1, false),
            ]
        );
        let by_party = ask(&mut analyst, M::Cases, &[D::Party], vec![], Internal).await;
        assert_eq!(
            (by_party.total, rows(&by_party)),
            (
                2,
                vec![(keys(&["AM"]), 1, false), (keys(&["AZ"]), 1, false)]
            )
        );
        let victims = ask(
            &mut analyst,
            M::Victims,
            &[D::AgeGroup, D::Sex],
            vec![],
            Internal,
        )
        .await;
        assert_eq!(victims.total, 5, "the duplicate adds no victims");
        assert_eq!(
            rows(&victims),
            vec![
                (keys(&["AGE_GROUP_ADULT", "SEX_FEMALE"]), 2, false),
                (keys(&["AGE_GROUP_ADULT", "SEX_MALE"]), 2, false),
                (keys(&["AGE_GROUP_CHILD", "SEX_MALE"]), 1, false),
            ]
        );
        let am = ask(
            &mut analyst,
            M::Victims,
            &[D::Harm],
            vec![rep::Filter {
                dimension: D::Party.into(),
                values: vec!["AM".into()],
            }],
            Internal,
        )
        .await;
        assert_eq!(
            (am.total, rows(&am)),
            (
                3,
                vec![
                    (keys(&["HARM_INJURED"]), 1, false),
                    (keys(&["HARM_KILLED"]), 2, false)
                ]
            )
        );
        let weeks = ask(&mut analyst, M::Cases, &[D::IncidentWeek], vec![], Internal).await;
        assert_eq!(rows(&weeks), vec![(keys(&["2020-W41"]), 2, false)]);
    };
    check(analyst.clone()).await;

    // For the public: every count here is small, so every one is withheld, the total too.
    let published = ask(
        &mut analyst,
        rep::Measure::Victims,
        &[rep::Dimension::Harm],
        vec![],
        rep::Audience::Public,
    )
    .await;
    assert!(published.total_suppressed && published.total == 0);
    assert!(published.rows.iter().all(|r| r.suppressed && r.value == 0));
    // The public reads releases, never live figures, whatever the audience asked for.
    let mut public = app.reporting_as(Role::PublicReporter).await;
    for audience in [rep::Audience::Internal, rep::Audience::Public] {
        let refused = public
            .query_statistics(rep::QueryStatisticsRequest {
                measure: rep::Measure::Cases.into(),
                audience: audience.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
    let invalid = analyst
        .query_statistics(rep::QueryStatisticsRequest {
            measure: rep::Measure::Allegations.into(),
            group_by: vec![rep::Dimension::Harm.into()],
            audience: rep::Audience::Internal.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(docket_e2e::field_violations(&invalid), ["group_by[0]"]);

    // Caught up: each stream's cursor at the head its source last announced.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        let status = analyst
            .get_projection_status(rep::GetProjectionStatusRequest {})
            .await
            .unwrap()
            .into_inner();
        if status.streams.iter().all(|s| s.lag_events == 0)
            || tokio::time::Instant::now() > deadline
        {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let streams: Vec<(&str, bool, i64)> = status
        .streams
        .iter()
        .map(|s| {
            assert_eq!(s.head_sequence, s.last_sequence, "{}", s.stream);
            (s.stream.as_str(), s.last_sequence > 0, s.lag_events)
        })
        .collect();
    assert_eq!(streams, [("intake", true, 0), ("case-management", true, 0)]);

    // After a restart the projectors resume from their cursors: nothing lost, nothing twice.
    let app = app.restart().await;
    let mut analyst = app.reporting_as(Role::Analyst).await;
    settled(&mut analyst, 2, 4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    check(analyst).await;
    app.stop().await;
}
