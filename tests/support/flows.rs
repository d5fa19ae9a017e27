//! Steps many scenarios share.

use std::time::Duration;

use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as pb;

use crate::{CaseClient, IntakeClient, allegation, submit_request};

/// Submits `sent` under a fresh request id; returns the new allegation's id.
pub async fn submit(intake: &mut IntakeClient, sent: pb::Allegation) -> String {
    intake
        .submit_allegation(submit_request(sent))
        .await
        .expect("a submission")
        .into_inner()
        .allegation
        .expect("an allegation")
        .id
}

/// Accepts allegation `id`.
pub async fn accept(intake: &mut IntakeClient, id: &str) {
    intake
        .accept_allegation(pb::AcceptAllegationRequest {
            id: id.to_owned(),
            ..Default::default()
        })
        .await
        .expect("an acceptance");
}

/// Submits a new allegation (the standard one) and accepts it; returns its id.
pub async fn accept_new(intake: &mut IntakeClient) -> String {
    let id = submit(intake, allegation()).await;
    accept(intake, &id).await;
    id
}

/// The cases holding `allegation_id`, once at least one exists (or after 20 s: empty).
pub async fn cases_of(cases: &mut CaseClient, allegation_id: &str) -> Vec<cases::Case> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let found = cases
            .list_cases(cases::ListCasesRequest {
                allegation_id: allegation_id.into(),
                ..Default::default()
            })
            .await
            .expect("a list of cases")
            .into_inner()
            .cases;
        if !found.is_empty() || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
