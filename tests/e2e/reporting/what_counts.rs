//! The victims' side, the level of verification and the counting rule, over the seed situation:
//! its figures by the victims' side as well as by the perpetrator's, and a case closed as not a
//! crime and a withdrawn charge leaving every total and the report while staying queryable.

use std::time::Duration;

use docket_e2e::{Backend, ReportingClient, TestApp, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::reporting::v1 as rep;

use super::rendered::{cell, render};
use super::situation;
use super::{keys, rows};

on_every_backend!(
    the_seed_situation_counts_by_the_victims_side_as_well_as_the_perpetrators,
    a_case_closed_as_not_a_crime_and_a_withdrawn_charge_leave_the_figures_but_stay_queryable,
    a_case_resting_only_on_fabricated_evidence_counts_again_once_that_evidence_is_unlinked,
);

use rep::Audience::Internal;
use rep::Dimension as D;
use rep::Measure as M;

fn filter(dimension: D, values: &[&str]) -> rep::Filter {
    rep::Filter {
        dimension: dimension.into(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

async fn count(
    client: &mut ReportingClient,
    measure: M,
    group_by: &[D],
    filters: Vec<rep::Filter>,
    include_uncounted: bool,
) -> rep::QueryStatisticsResponse {
    client
        .query_statistics(rep::QueryStatisticsRequest {
            measure: measure.into(),
            group_by: group_by.iter().map(|d| (*d).into()).collect(),
            filters,
            audience: Internal.into(),
            include_uncounted,
        })
        .await
        .unwrap()
        .into_inner()
}

async fn the_seed_situation_counts_by_the_victims_side_as_well_as_the_perpetrators(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    situation::build(&app).await;
    let mut analyst = app.reporting_as(Role::Analyst).await;
    super::seed::settled(&mut analyst).await;

    let by_side = count(&mut analyst, M::Victims, &[D::VictimParty], vec![], false).await;
    assert_eq!(by_side.total, 30);
    assert_eq!(
        rows(&by_side),
        [(keys(&["AM"]), 3, false), (keys(&["AZ"]), 27, false)]
    );
    // Crossed with the alleged perpetrator's party: AM's shelling and defilement harmed AZ's
    // people, AZ's executions AM's prisoners of war. Both ways the same 30.
    let crossed = count(
        &mut analyst,
        M::Victims,
        &[D::Party, D::VictimParty],
        vec![],
        false,
    )
    .await;
    assert_eq!(
        rows(&crossed),
        [
            (keys(&["AM", "AZ"]), 27, false),
            (keys(&["AZ", "AM"]), 3, false)
        ]
    );
    // Filtered, so counted from the fact tables rather than the rollups: the same figures.
    let prisoners = count(
        &mut analyst,
        M::Victims,
        &[D::VictimStatus, D::Harm],
        vec![filter(D::VictimParty, &["AM"])],
        false,
    )
    .await;
    assert_eq!(
        rows(&prisoners),
        [(
            keys(&["VICTIM_STATUS_PRISONER_OF_WAR", "HARM_KILLED"]),
            3,
            false
        )]
    );

    // Every victim in exactly one age band; the seed gives no child's age more closely.
    let bands = count(&mut analyst, M::Victims, &[D::AgeBand], vec![], false).await;
    assert_eq!(
        rows(&bands),
        [
            (keys(&["AGE_GROUP_ADULT"]), 21, false),
            (keys(&["AGE_GROUP_CHILD"]), 6, false),
            (keys(&["AGE_GROUP_ELDERLY"]), 3, false),
        ]
    );

    // By level of verification: the first shelling and the first execution are charged, the
    // other cases under investigation.
    let verified = count(&mut analyst, M::Victims, &[D::Verification], vec![], false).await;
    assert_eq!(
        rows(&verified),
        [
            (keys(&["charged"]), 12, false),
            (keys(&["under_investigation"]), 18, false),
        ]
    );
    let charged_civilians = count(
        &mut analyst,
        M::Victims,
        &[],
        vec![
            filter(D::Verification, &["charged"]),
            filter(D::VictimStatus, &["VICTIM_STATUS_CIVILIAN"]),
        ],
        false,
    )
    .await;
    assert_eq!(charged_civilians.total, 10);
    let allegations = count(
        &mut analyst,
        M::Allegations,
        &[D::Verification],
        vec![],
        false,
    )
    .await;
    assert_eq!(
        rows(&allegations),
        [
            (keys(&["accepted"]), 3, false),
            (keys(&["duplicate"]), 1, false)
        ]
    );
}

async fn a_case_closed_as_not_a_crime_and_a_withdrawn_charge_leave_the_figures_but_stay_queryable(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let seed = situation::build(&app).await;
    let mut analyst = app.reporting_as(Role::Analyst).await;
    super::seed::settled(&mut analyst).await;

    let mut prosecutor = app.cases_as(Role::Prosecutor).await;
    let defilement = prosecutor
        .get_case(pb::GetCaseRequest {
            case_id: seed.defilement_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    prosecutor
        .transition_case(pb::TransitionCaseRequest {
            case_id: seed.defilement_id.clone(),
            etag: defilement.etag,
            target_status: pb::CaseStatus::Closed.into(),
            reason: pb::CloseReason::NotACrime.into(),
            note: "The footage shows a training exercise.".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let charges = prosecutor
        .list_charges(pb::ListChargesRequest {
            case_id: seed.shelling_1_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .charges;
    prosecutor
        .update_charge_status(pb::UpdateChargeStatusRequest {
            case_id: seed.shelling_1_id.clone(),
            charge_id: charges[0].id.clone(),
            status: pb::ChargeStatus::Withdrawn.into(),
            ..Default::default()
        })
        .await
        .unwrap();

    // The office's figures: without the case closed as not a crime and the withdrawn charge.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let cases = count(&mut analyst, M::Cases, &[], vec![], false)
            .await
            .total;
        let charges = count(&mut analyst, M::Charges, &[], vec![], false)
            .await
            .total;
        if (cases, charges) == (5, 4) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rule was not applied: {cases} cases, {charges} charges"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let victims = count(&mut analyst, M::Victims, &[D::VictimParty], vec![], false).await;
    assert_eq!(victims.total, 27);
    assert_eq!(
        rows(&victims),
        [(keys(&["AM"]), 3, false), (keys(&["AZ"]), 24, false)]
    );
    assert_eq!(
        count(&mut analyst, M::Accused, &[], vec![], false)
            .await
            .total,
        4
    );
    let by_harm = count(&mut analyst, M::Victims, &[D::Harm], vec![], false).await;
    // The bodies defiled are gone; the 26 killed and the injured child remain.
    assert_eq!(
        rows(&by_harm),
        [
            (keys(&["HARM_INJURED"]), 1, false),
            (keys(&["HARM_KILLED"]), 26, false)
        ]
    );

    // Still there when asked for, with the reason it does not count.
    let everything = count(&mut analyst, M::Victims, &[D::Counting], vec![], true).await;
    assert_eq!(everything.total, 30);
    assert_eq!(
        rows(&everything),
        [
            (keys(&["counted"]), 27, false),
            (keys(&["not_a_crime"]), 3, false)
        ]
    );
    let withdrawn = count(
        &mut analyst,
        M::Charges,
        &[],
        vec![filter(D::ChargeStatus, &["CHARGE_STATUS_WITHDRAWN"])],
        false,
    )
    .await;
    assert_eq!(withdrawn.total, 1);
    let every_charge = count(&mut analyst, M::Charges, &[D::ChargeStatus], vec![], true).await;
    assert_eq!(
        rows(&every_charge),
        [
            (keys(&["CHARGE_STATUS_FILED"]), 4, false),
            (keys(&["CHARGE_STATUS_WITHDRAWN"]), 1, false),
        ]
    );

    // The report gives the office's figures and says what counts.
    let report = render(&mut analyst, Internal).await;
    assert_eq!(cell(&report, "totals/cases"), "5");
    assert_eq!(cell(&report, "totals/victims"), "27");
    assert_eq!(cell(&report, "totals/charges"), "4");
    assert!(
        report.contains("closed as not a crime"),
        "the rule is stated"
    );
    assert_eq!(cell(&report, "victims-by-side/AM/HARM_KILLED"), "3");
}

/// Waits until the office's figures count `victims` people harmed.
async fn victims_settle(client: &mut ReportingClient, victims: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let counted = count(client, M::Victims, &[], vec![], false).await.total;
        if counted == victims {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{counted} people harmed counted, not {victims}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_case_resting_only_on_fabricated_evidence_counts_again_once_that_evidence_is_unlinked(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let seed = situation::build(&app).await;
    let mut analyst = app.reporting_as(Role::Analyst).await;
    super::seed::settled(&mut analyst).await;

    // "There are many fake videos": the only video of the defilement is judged fabricated.
    let video = app.stored_evidence(b"a video of the defilement").await;
    let mut investigator = app.cases().await;
    investigator
        .link_evidence(pb::LinkEvidenceRequest {
            case_id: seed.defilement_id.clone(),
            etag: String::new(),
            evidence_id: video.clone(),
            description: "Video: soldiers defiling bodies".into(),
            reason: String::new(),
        })
        .await
        .unwrap();
    // Linked but not yet judged, the case still counts.
    victims_settle(&mut analyst, 30).await;
    app.cases_as(Role::Analyst)
        .await
        .record_assessment(pb::RecordAssessmentRequest {
            case_id: seed.defilement_id.clone(),
            etag: String::new(),
            assessment: Some(pb::Assessment {
                evidence_id: video.clone(),
                verdict: pb::Verdict::FabricatedOrManipulated.into(),
                method: pb::AssessmentMethod::ForensicMediaAnalysis.into(),
                examiner: "Forensic laboratory".into(),
                findings: "Spliced from two recordings.".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    victims_settle(&mut analyst, 27).await;
    let why = count(&mut analyst, M::Victims, &[D::Counting], vec![], true).await;
    assert_eq!(
        rows(&why),
        [
            (keys(&["counted"]), 27, false),
            (keys(&["fabricated_evidence"]), 3, false)
        ]
    );

    // Unlinked, the fabricated video no longer stands for the case: it rests on nothing judged
    // fabricated, and counts again.
    investigator
        .unlink_evidence(pb::UnlinkEvidenceRequest {
            case_id: seed.defilement_id.clone(),
            etag: String::new(),
            evidence_id: video,
            reason: "Judged fabricated; it proves nothing in this case.".into(),
        })
        .await
        .unwrap();
    victims_settle(&mut analyst, 30).await;
}
