//! Allegations delivered to case management the only way a delivery is believed: submitted to
//! intake, accepted there (or marked a duplicate), and carried by intake's outbox.

use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as pb;

use crate::flows::accept;
use crate::{TestApp, allegation, cases_of, submit};

/// Submits to intake an allegation about `incident` (its violation types, perpetrators, victims,
/// period and place; its id and reference are intake's to give), accepts it — or marks it a
/// duplicate of `incident.duplicate_of_id` — and waits until intake's outbox has put it in a
/// case. Returns intake's snapshot of it and that case.
pub async fn deliver(
    app: &TestApp,
    incident: cases::AllegationSnapshot,
) -> (cases::AllegationSnapshot, cases::Case) {
    let id = triaged(app, incident).await;
    let mut investigator = app.cases().await;
    let found = cases_of(&mut investigator, &id).await;
    let [case] = found.try_into().unwrap_or_else(|found: Vec<cases::Case>| {
        panic!("allegation {id} is in {} cases, not one", found.len())
    });
    (held_by_intake(app, &id).await, case)
}

/// Like [`deliver`], without waiting for case management: returns the allegation's id once
/// intake has accepted it (or marked it a duplicate).
pub async fn triaged(app: &TestApp, incident: cases::AllegationSnapshot) -> String {
    let mut intake = app.intake().await;
    let submitted = pb::Allegation {
        violation_types: incident.violation_types,
        alleged_perpetrators: incident.alleged_perpetrators,
        victims: incident.victims,
        incident_period: incident.incident_period,
        location: incident.location,
        ..allegation()
    };
    let id = submit(&mut intake, submitted).await;
    if incident.duplicate_of_id.is_empty() {
        accept(&mut intake, &id).await;
    } else {
        intake
            .mark_duplicate(pb::MarkDuplicateRequest {
                id: id.clone(),
                duplicate_of_id: incident.duplicate_of_id,
                ..Default::default()
            })
            .await
            .expect("a duplicate marked");
    }
    id
}

/// Intake's snapshot of allegation `id`: what its outbox delivers, and what case management
/// compares every delivery with.
pub async fn held_by_intake(app: &TestApp, id: &str) -> cases::AllegationSnapshot {
    let held = app
        .intake_as(Role::Service)
        .await
        .get_allegation(pb::GetAllegationRequest { id: id.to_owned() })
        .await
        .expect("intake holds the allegation")
        .into_inner()
        .allegation
        .expect("an allegation");
    cases::AllegationSnapshot::from(&held)
}
