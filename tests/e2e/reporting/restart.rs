//! Reporting stopped again and again while it catches up (each stop drops whatever transaction
//! it was in), then left to finish: its figures must equal those of a second reporting that
//! built its projections from scratch on an empty database.

use std::time::Duration;

use docket_e2e::{
    Backend, TestApp, allegation, caught_up_together, on_every_backend, statistics_without_time,
    submit_request,
};
use docket_platform::auth::Role;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::reporting::v1 as rep;

on_every_backend!(figures_after_stops_mid_stream_equal_a_rebuild_from_scratch);

const ALLEGATIONS: usize = 24;

/// The i-th allegation: parties, violations, places and victims varied.
fn varied(i: usize) -> pb::Allegation {
    let mut sent = allegation();
    sent.alleged_perpetrators[0].party_code = ["AM", "AZ", "AZ"][i % 3].into();
    sent.violation_types = vec![
        [
            common::ViolationType::Killing,
            common::ViolationType::AttackOnCivilians,
            common::ViolationType::DesecrationOfBodies,
        ][i % 3]
            .into(),
    ];
    sent.location.as_mut().unwrap().place_name =
        ["Ganja", "Hadrut", "Tartar", "Shusha"][i % 4].into();
    sent.victims = vec![common::VictimGroup {
        count: 1 + (i % 4) as i32,
        status: common::VictimStatus::Civilian.into(),
        harm: common::Harm::Killed.into(),
        age_group: [common::AgeGroup::Child, common::AgeGroup::Adult][i % 2].into(),
        sex: [common::Sex::Female, common::Sex::Male, common::Sex::Unknown][i % 3].into(),
        ..Default::default()
    }];
    sent
}

async fn figures_after_stops_mid_stream_equal_a_rebuild_from_scratch(backend: Backend) {
    let Some(mut app) = TestApp::spawn(backend).await else {
        return;
    };
    app.stop_reporting().await;
    let mut intake = app.intake().await;
    let mut ids = Vec::new();
    for i in 0..ALLEGATIONS {
        let id = intake
            .submit_allegation(submit_request(varied(i)))
            .await
            .unwrap()
            .into_inner()
            .allegation
            .unwrap()
            .id;
        ids.push(id);
    }
    for (i, id) in ids.iter().enumerate() {
        match i % 4 {
            0 | 1 => {
                intake
                    .accept_allegation(pb::AcceptAllegationRequest {
                        id: id.clone(),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
            }
            2 => {
                intake
                    .mark_duplicate(pb::MarkDuplicateRequest {
                        id: id.clone(),
                        duplicate_of_id: ids[i - 2].clone(),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
            }
            _ => {
                intake
                    .reject_allegation(pb::RejectAllegationRequest {
                        id: id.clone(),
                        reason: "Not corroborated.".into(),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
            }
        }
    }

    // Started and stopped while it catches up, at different points each time.
    for round in 1..=6u64 {
        app.start_reporting().await;
        tokio::time::sleep(Duration::from_millis(round * 12)).await;
        app.stop_reporting().await;
    }
    app.start_reporting().await;
    let rebuilt = app.start_another_reporting("reporting_rebuilt").await;

    let mut resumed = app.reporting_as(Role::Analyst).await;
    let mut scratch = app.reporting_at(rebuilt.addr, Role::Analyst).await;
    caught_up_together(&mut resumed, &mut scratch, Duration::from_secs(30)).await;

    let total = |answer: rep::QueryStatisticsResponse| answer.total;
    let allegations = statistics_without_time(
        &mut resumed,
        rep::Measure::Allegations,
        &[],
        rep::Audience::Internal,
    )
    .await
    .map(total);
    assert_eq!(allegations, Some(ALLEGATIONS as i64));
    let cases = statistics_without_time(
        &mut resumed,
        rep::Measure::Cases,
        &[],
        rep::Audience::Internal,
    )
    .await
    .map(total);
    assert_eq!(
        cases,
        Some((ALLEGATIONS / 2) as i64),
        "one case per accepted allegation"
    );

    let mut compared = 0;
    for measure in MEASURES {
        for audience in [rep::Audience::Internal, rep::Audience::Public] {
            let mut groupings: Vec<Vec<rep::Dimension>> = vec![vec![]];
            groupings.extend(DIMENSIONS.iter().map(|d| vec![*d]));
            groupings.extend(DIMENSIONS.iter().map(|d| vec![rep::Dimension::Party, *d]));
            for group_by in groupings {
                let a = statistics_without_time(&mut resumed, measure, &group_by, audience).await;
                let b = statistics_without_time(&mut scratch, measure, &group_by, audience).await;
                assert_eq!(a, b, "{measure:?} by {group_by:?} for {audience:?}");
                compared += usize::from(a.is_some());
            }
        }
    }
    assert!(compared > 60, "only {compared} statistics compared");
    rebuilt.stop().await;
    app.stop().await;
}

const MEASURES: [rep::Measure; 5] = [
    rep::Measure::Allegations,
    rep::Measure::Cases,
    rep::Measure::Victims,
    rep::Measure::Charges,
    rep::Measure::Accused,
];

const DIMENSIONS: [rep::Dimension; 12] = [
    rep::Dimension::Party,
    rep::Dimension::CrimeType,
    rep::Dimension::ViolationType,
    rep::Dimension::CaseStatus,
    rep::Dimension::AllegationStatus,
    rep::Dimension::VictimStatus,
    rep::Dimension::Harm,
    rep::Dimension::AgeGroup,
    rep::Dimension::Sex,
    rep::Dimension::InAbsentia,
    rep::Dimension::IncidentWeek,
    rep::Dimension::Place,
];
