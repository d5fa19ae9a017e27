//! Correcting an allegation in triage: with its etag, only while it is received or under review,
//! every field changed kept with who, when and why, the source's identity sealed throughout, and
//! reporting counting the allegation as corrected, once.

use std::time::Duration;

use docket_e2e::{Backend, TestApp, allegation, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::reporting::v1 as rep;
use tonic::Code;

use super::{allegation as current, allegation_changes, field, mask, names, register};

on_every_backend!(
    a_correction_keeps_old_and_new_values_with_who_when_and_why_and_the_source_stays_sealed,
    a_stale_etag_or_a_decided_allegation_refuses_the_correction_and_writes_nothing,
);

async fn a_correction_keeps_old_and_new_values_with_who_when_and_why_and_the_source_stays_sealed(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let submitted = register(&mut intake, allegation()).await;
    let id = submitted.id.clone();
    let reviewed = intake
        .start_review(pb::StartReviewRequest { id: id.clone() })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_ne!(reviewed.etag, submitted.etag, "every change moves the etag");

    // The source misspelt the perpetrators' side and her own name; the count of the dead is
    // three, not two, and the bodies were defiled.
    let mut new = pb::Allegation {
        violation_types: vec![
            common::ViolationType::Killing.into(),
            common::ViolationType::DesecrationOfBodies.into(),
        ],
        ..allegation()
    };
    new.alleged_perpetrators[0].party_code = "AZ".into();
    new.victims[0].count = 3;
    new.source.as_mut().unwrap().name = "Leyla Mammadli".into();
    let corrected = intake
        .update_allegation(pb::UpdateAllegationRequest {
            id: id.clone(),
            etag: reviewed.etag.clone(),
            allegation: Some(new),
            update_mask: mask(&[
                "violation_types",
                "alleged_perpetrators",
                "victims",
                "source.name",
            ]),
            reason: "The source called back: she had been misheard.".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(corrected.victims[0].count, 3);
    assert_eq!(corrected.alleged_perpetrators[0].party_code, "AZ");
    assert_eq!(
        corrected.narrative, submitted.narrative,
        "unnamed fields stay"
    );
    let source = corrected.source.clone().unwrap();
    assert_eq!(
        (source.name.as_str(), source.contact.as_str()),
        ("Leyla Mammadli", "+994 50 000 00 00"),
        "an intake officer sees the corrected identity, the contact untouched"
    );
    assert_ne!(corrected.etag, reviewed.etag);
    assert_eq!(current(&mut intake, &id).await, corrected);

    let changes = allegation_changes(&mut intake, &id).await;
    let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, ["start review", "correct allegation"]);
    let review = &changes[0];
    assert_eq!(names(review), ["reviewed_by", "status"]);
    assert_eq!(field(review, "status").old_value, "received");
    assert_eq!(field(review, "status").new_value, "under_review");
    let correction = &changes[1];
    assert_eq!(correction.changed_by, "officer.aliyev");
    assert_eq!(
        correction.reason,
        "The source called back: she had been misheard."
    );
    assert!(correction.revision > review.revision);
    let when = correction.changed_at.unwrap().seconds;
    assert!(
        (chrono::Utc::now().timestamp() - when).abs() < 60,
        "when: {when}"
    );
    assert_eq!(
        names(correction),
        [
            "alleged_perpetrators",
            "source.name",
            "victims",
            "violation_types"
        ]
    );
    let victims = field(correction, "victims");
    assert_eq!(
        victims.old_value,
        "2 civilian killed adult female; 1 civilian injured child male"
    );
    assert_eq!(
        victims.new_value,
        "3 civilian killed adult female; 1 civilian injured child male"
    );
    assert_eq!(
        field(correction, "alleged_perpetrators").old_value,
        "AM: rocket artillery"
    );
    let name = field(correction, "source.name");
    assert!(name.sealed, "the source's name changed, and is sealed");
    assert!(name.old_value.is_empty() && name.new_value.is_empty());

    // Sealed in the history for every reader, in clear or in any stored form.
    for role in [Role::IntakeOfficer, Role::Analyst, Role::Supervisor] {
        let mut reader = app.intake_as(role).await;
        let seen = format!("{:?}", allegation_changes(&mut reader, &id).await);
        for secret in ["Leyla", "Mammad", "+994", "v1:"] {
            assert!(
                !seen.contains(secret),
                "{role} saw {secret:?} in the history"
            );
        }
    }

    // Reporting counts the allegation under its corrected violation types and party only.
    let mut reporting = app.reporting_as(Role::Analyst).await;
    let expected = vec![
        (vec!["VIOLATION_TYPE_DESECRATION_OF_BODIES".to_owned()], 1),
        (vec!["VIOLATION_TYPE_KILLING".to_owned()], 1),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let by_type = by(&mut reporting, rep::Dimension::ViolationType).await;
        let by_party = by(&mut reporting, rep::Dimension::Party).await;
        if by_type == expected && by_party == [(vec!["AZ".to_owned()], 1)] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "reporting still counts {by_type:?} and {by_party:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}

/// Allegations by `dimension`, as reporting counts them for the office.
async fn by(
    reporting: &mut docket_e2e::ReportingClient,
    dimension: rep::Dimension,
) -> Vec<(Vec<String>, i64)> {
    reporting
        .query_statistics(rep::QueryStatisticsRequest {
            measure: rep::Measure::Allegations.into(),
            group_by: vec![dimension.into()],
            filters: vec![],
            audience: rep::Audience::Internal.into(),
            include_uncounted: false,
        })
        .await
        .unwrap()
        .into_inner()
        .rows
        .into_iter()
        .map(|row| (row.keys, row.value))
        .collect()
}

async fn a_stale_etag_or_a_decided_allegation_refuses_the_correction_and_writes_nothing(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let submitted = register(&mut intake, allegation()).await;
    let id = submitted.id.clone();
    let narrative = |text: &str| pb::UpdateAllegationRequest {
        id: id.clone(),
        etag: submitted.etag.clone(),
        allegation: Some(pb::Allegation {
            narrative: text.into(),
            ..Default::default()
        }),
        update_mask: mask(&["narrative"]),
        reason: "Transcription error.".into(),
    };
    let first = intake
        .update_allegation(narrative("Rockets hit Shahriyar street at 02:00."))
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();

    // A second officer working from the same reading is told the allegation moved on.
    let stale = intake
        .update_allegation(narrative("Rockets hit Ataturk avenue."))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    assert_eq!(current(&mut intake, &id).await, first);
    assert_eq!(allegation_changes(&mut intake, &id).await.len(), 1);

    // Once accepted it was delivered as it was: it cannot be corrected, even with its etag.
    let accepted = intake
        .accept_allegation(pb::AcceptAllegationRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    let refused = intake
        .update_allegation(pb::UpdateAllegationRequest {
            etag: accepted.etag.clone(),
            ..narrative("Too late.")
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(current(&mut intake, &id).await, accepted);
    let changes = allegation_changes(&mut intake, &id).await;
    let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, ["correct allegation", "accept allegation"]);

    // A rejected one cannot be corrected either, until it is reopened.
    let other = register(&mut intake, allegation()).await;
    let rejected = intake
        .reject_allegation(pb::RejectAllegationRequest {
            id: other.id.clone(),
            reason: "Outside the office's mandate.".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    let refused = intake
        .update_allegation(pb::UpdateAllegationRequest {
            id: other.id.clone(),
            etag: rejected.etag.clone(),
            ..narrative("Still too late.")
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(current(&mut intake, &other.id).await, rejected);
    app.stop().await;
}
