//! `GetCaseDossier`: a case and everything held on it in one answer, so that a prosecutor does
//! not call GetCase, ListPersons, ListCharges, ListEvidence, ListAssessments and intake once per
//! item. It is assembled from the same store reads as those calls (so persons are opened or
//! redacted for the caller's role exactly as `ListPersons` does), and intake is asked about each
//! item as `ListEvidence` asks it: its record (hash, size, verdict, flags) and its custody.

use std::collections::HashMap;

use docket_platform::auth::CallContext;
use docket_platform::paging::{MAX_PAGE_SIZE, Page};
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::intake::v1 as intake;
use tonic::Code;
use uuid::Uuid;

use crate::error::CaseError;
use crate::intake::{ContentStanding, IntakeEvidence};
use crate::store::{CaseStore, with_content_verdicts};

/// The dossier of case `id` as `call`'s role may see it.
pub async fn dossier(
    store: &CaseStore,
    intake: &IntakeEvidence,
    id: Uuid,
    call: &CallContext,
) -> Result<pb::GetCaseDossierResponse, CaseError> {
    let page = Page::first(MAX_PAGE_SIZE);
    let case = store.get(id).await?;
    let mut truncated = Vec::new();
    let mut note = |part: &str, next: &str| {
        if !next.is_empty() {
            truncated.push(part.to_owned());
        }
    };
    let (persons, next) = store.persons(id, None, &page, call).await?;
    note("persons", &next);
    let (charges, next) = store.charges(id, &page).await?;
    note("charges", &next);
    let (links, next) = store.evidence(id, &page).await?;
    note("evidence", &next);
    let (assessments, next) = store.assessments(id, None, &page).await?;
    note("assessments", &next);
    let (history, next) = store.history(id, &page).await?;
    note("history", &next);

    let mut records = HashMap::new();
    let mut custody = HashMap::new();
    let mut custody_cut = false;
    for link in &links {
        let evidence_id = link.evidence_id.clone();
        let (record, events, more) = intake.record_and_custody(&evidence_id).await?;
        custody_cut |= more;
        custody.insert(evidence_id.clone(), events);
        records.insert(evidence_id, record);
    }
    if custody_cut {
        truncated.push("evidence.custody".to_owned());
    }
    let standing: HashMap<String, ContentStanding> = records
        .iter()
        .map(|(id, record)| (id.clone(), ContentStanding::of(record)))
        .collect();
    let evidence = with_content_verdicts(links, &standing)
        .into_iter()
        .map(|link| pb::DossierEvidence {
            record: records.remove(&link.evidence_id),
            custody: custody.remove(&link.evidence_id).unwrap_or_default(),
            link: Some(link),
        })
        .collect();
    Ok(pb::GetCaseDossierResponse {
        r#case: Some(case),
        persons,
        charges,
        evidence,
        assessments,
        history,
        truncated,
    })
}

impl IntakeEvidence {
    /// Intake's record of evidence `id` and the first 1 000 events of its custody, and whether
    /// more events follow.
    async fn record_and_custody(
        &self,
        id: &str,
    ) -> Result<(intake::Evidence, Vec<intake::CustodyEvent>, bool), CaseError> {
        let unavailable = |status: tonic::Status| match (status.code(), Uuid::parse_str(id)) {
            (Code::NotFound, Ok(id)) => CaseError::EvidenceUnknown(id),
            _ => CaseError::IntakeUnavailable(status),
        };
        let record = self
            .client
            .clone()
            .get_evidence(intake::GetEvidenceRequest {
                evidence_id: id.to_owned(),
            })
            .await
            .map_err(unavailable)?
            .into_inner()
            .evidence
            .unwrap_or_default();
        let custody = self
            .client
            .clone()
            .list_custody_events(intake::ListCustodyEventsRequest {
                evidence_id: id.to_owned(),
                page_size: i32::try_from(MAX_PAGE_SIZE).unwrap_or(i32::MAX),
                page_token: String::new(),
            })
            .await
            .map_err(unavailable)?
            .into_inner();
        Ok((record, custody.events, !custody.next_page_token.is_empty()))
    }
}
