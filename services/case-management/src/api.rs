//! The gRPC face of case management: each call parses its request, asks the store, and wraps
//! the answer.

use std::sync::Arc;

use chrono::Utc;
use docket_domain::case::Taxonomy;
use docket_domain::party::KnownParties;
use docket_platform::auth::CallContext;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::cases::v1::case_service_server::CaseService;
use tonic::{Request, Response, Status};

use crate::error::CaseError;
use crate::intake::IntakeEvidence;
use crate::register::Decision;
use crate::request;
use crate::request::reference::Referenced;
use crate::search::SearchIndex;
use crate::store::CaseStore;
use crate::store::with_content_verdicts;

/// The case service.
#[derive(Debug, Clone)]
pub struct CaseApi {
    store: CaseStore,
    parties: KnownParties,
    taxonomy: Arc<Taxonomy>,
    intake: IntakeEvidence,
    search: SearchIndex,
}

impl CaseApi {
    pub fn new(
        store: CaseStore,
        parties: KnownParties,
        taxonomy: Taxonomy,
        intake: IntakeEvidence,
        search: SearchIndex,
    ) -> Self {
        Self {
            store,
            parties,
            intake,
            taxonomy: Arc::new(taxonomy),
            search,
        }
    }
}

impl CaseApi {
    /// A decision about a pair of named victims, `(person_id, other_person_id, reason)` as sent;
    /// `None` undoes the latest.
    async fn decide(
        &self,
        call: &CallContext,
        (person, other, reason): (String, String, String),
        decision: Option<Decision>,
    ) -> Result<pb::CasualtyMatch, CaseError> {
        let (a, b, reason) = request::casualty_pair(&person, &other, reason)?;
        self.store
            .decide_casualty_match(a, b, decision, reason.as_str(), call)
            .await
    }
}

impl CaseApi {
    /// The message of `request`, every reference in its id fields resolved into the id it
    /// names (see [`request::reference`]).
    async fn resolved<R: Referenced>(&self, request: Request<R>) -> Result<R, CaseError> {
        let mut message = request.into_inner();
        request::reference::resolve(&self.store, &mut message).await?;
        Ok(message)
    }
}

/// The context the auth layer attached; its absence means the service was mounted without it.
fn call_context<T>(request: &Request<T>) -> Result<CallContext, CaseError> {
    CallContext::of(request).cloned().ok_or_else(|| {
        CaseError::Unexpected(anyhow::anyhow!(
            "no call context: the auth layer is missing"
        ))
    })
}

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl CaseService for CaseApi {
    async fn receive_allegation(
        &self,
        request: Request<pb::ReceiveAllegationRequest>,
    ) -> Answer<pb::ReceiveAllegationResponse> {
        let call = call_context(&request)?;
        let request = request.into_inner();
        let delivered = request.allegation.clone().unwrap_or_default();
        let allegation = request::receive(request, Utc::now()).map_err(CaseError::from)?;
        // A `service` token is not enough: intake must vouch for the allegation as delivered.
        let evidence = self.intake.confirm(allegation.id, &delivered).await?;
        let received = self.store.receive(allegation, &evidence, &call).await?;
        if received.created {
            tracing::info!(case = %received.case.reference, "allegation received");
        }
        Ok(Response::new(pb::ReceiveAllegationResponse {
            r#case: Some(received.case),
            created: received.created,
            linked_as_duplicate: received.linked_as_duplicate,
        }))
    }

    async fn receive_evidence(
        &self,
        request: Request<pb::ReceiveEvidenceRequest>,
    ) -> Answer<pb::ReceiveEvidenceResponse> {
        let call = call_context(&request)?;
        let (evidence_id, case_id) =
            request::receive_evidence(request.get_ref()).map_err(CaseError::from)?;
        // A `service` token is not enough: intake must hold the item registered to this case.
        let item = self.intake.registration(evidence_id).await?;
        if item.case_id != Some(case_id) {
            return Err(CaseError::Precondition(match item.case_id {
                Some(other) => format!(
                    "intake holds evidence {evidence_id} registered to case {other}, not {case_id}"
                ),
                None => format!(
                    "intake holds evidence {evidence_id} with an allegation, registered to no \
                     case; link it with LinkEvidence"
                ),
            })
            .into());
        }
        let (evidence, created) = self.store.receive_evidence(case_id, &item, &call).await?;
        if created {
            tracing::info!(case = %case_id, evidence = %evidence_id, "registered evidence linked");
        }
        let content = [(evidence_id.to_string(), item.content)]
            .into_iter()
            .collect();
        Ok(Response::new(pb::ReceiveEvidenceResponse {
            evidence: with_content_verdicts(vec![evidence], &content).pop(),
            created,
        }))
    }

    async fn open_case(
        &self,
        request: Request<pb::OpenCaseRequest>,
    ) -> Answer<pb::OpenCaseResponse> {
        let call = call_context(&request)?;
        let content = request::open(request.into_inner(), &self.parties, Utc::now())
            .map_err(CaseError::from)?;
        let case = self.store.open(content, &call).await?;
        Ok(Response::new(pb::OpenCaseResponse { r#case: Some(case) }))
    }

    async fn get_case(&self, request: Request<pb::GetCaseRequest>) -> Answer<pb::GetCaseResponse> {
        let request = self.resolved(request).await?;
        let id = request::get(&request).map_err(CaseError::from)?;
        let case = self.store.get(id).await?;
        Ok(Response::new(pb::GetCaseResponse { r#case: Some(case) }))
    }

    async fn get_case_dossier(
        &self,
        request: Request<pb::GetCaseDossierRequest>,
    ) -> Answer<pb::GetCaseDossierResponse> {
        let call = call_context(&request)?;
        let request = self.resolved(request).await?;
        let id = request::list_by_case(&request.case_id).map_err(CaseError::from)?;
        let dossier = crate::dossier::dossier(&self.store, &self.intake, id, &call).await?;
        Ok(Response::new(dossier))
    }

    async fn list_cases(
        &self,
        request: Request<pb::ListCasesRequest>,
    ) -> Answer<pb::ListCasesResponse> {
        let query = request::list(self.resolved(request).await?).map_err(CaseError::from)?;
        let (cases, next_page_token) = self.store.list(&query).await?;
        Ok(Response::new(pb::ListCasesResponse {
            cases,
            next_page_token,
        }))
    }

    async fn search_cases(
        &self,
        request: Request<pb::SearchCasesRequest>,
    ) -> Answer<pb::SearchCasesResponse> {
        let query = request::search(request.get_ref()).map_err(CaseError::from)?;
        Ok(Response::new(
            crate::search::answer(&self.search, query).await?,
        ))
    }

    async fn update_case(
        &self,
        request: Request<pb::UpdateCaseRequest>,
    ) -> Answer<pb::UpdateCaseResponse> {
        let call = call_context(&request)?;
        let command = request::update(self.resolved(request).await?, &self.parties, Utc::now())
            .map_err(CaseError::from)?;
        let reason = command.reason.as_ref().map(|r| r.as_str());
        let case = self
            .store
            .change_because(command.id, &command.etag, command.change, reason, &call)
            .await?;
        Ok(Response::new(pb::UpdateCaseResponse { r#case: Some(case) }))
    }

    async fn transition_case(
        &self,
        request: Request<pb::TransitionCaseRequest>,
    ) -> Answer<pb::TransitionCaseResponse> {
        let call = call_context(&request)?;
        let command =
            request::transition(self.resolved(request).await?).map_err(CaseError::from)?;
        let case = self
            .store
            .change(command.id, &command.etag, command.change, &call)
            .await?;
        Ok(Response::new(pb::TransitionCaseResponse {
            r#case: Some(case),
        }))
    }

    async fn list_case_history(
        &self,
        request: Request<pb::ListCaseHistoryRequest>,
    ) -> Answer<pb::ListCaseHistoryResponse> {
        let (id, page) =
            request::history(&self.resolved(request).await?).map_err(CaseError::from)?;
        let (changes, next_page_token) = self.store.history(id, &page).await?;
        Ok(Response::new(pb::ListCaseHistoryResponse {
            changes,
            next_page_token,
        }))
    }

    async fn list_case_changes(
        &self,
        request: Request<pb::ListCaseChangesRequest>,
    ) -> Answer<pb::ListCaseChangesResponse> {
        let query = request::changes(&self.resolved(request).await?).map_err(CaseError::from)?;
        let (changes, next_page_token) = self.store.changes(&query).await?;
        Ok(Response::new(pb::ListCaseChangesResponse {
            changes,
            next_page_token,
        }))
    }

    async fn list_crime_types(
        &self,
        _request: Request<pb::ListCrimeTypesRequest>,
    ) -> Answer<pb::ListCrimeTypesResponse> {
        let crime_types = self
            .taxonomy
            .crimes()
            .iter()
            .map(|crime| pb::CrimeType {
                code: crime.code.as_str().to_owned(),
                title: crime.title.clone(),
                source: crime.source.clone(),
                elements: crime.elements.clone(),
            })
            .collect();
        Ok(Response::new(pb::ListCrimeTypesResponse { crime_types }))
    }

    async fn qualify_case(
        &self,
        request: Request<pb::QualifyCaseRequest>,
    ) -> Answer<pb::QualifyCaseResponse> {
        let call = call_context(&request)?;
        let command = request::qualify(self.resolved(request).await?, &self.taxonomy)
            .map_err(CaseError::from)?;
        let case = self
            .store
            .change(command.id, &command.etag, command.change, &call)
            .await?;
        Ok(Response::new(pb::QualifyCaseResponse {
            r#case: Some(case),
        }))
    }

    async fn add_person(
        &self,
        request: Request<pb::AddPersonRequest>,
    ) -> Answer<pb::AddPersonResponse> {
        let call = call_context(&request)?;
        let ((id, etag), person) =
            request::add_person(self.resolved(request).await?).map_err(CaseError::from)?;
        let (person, etag) = self
            .store
            .add_person(id, etag.as_deref(), person, &call)
            .await?;
        Ok(Response::new(pb::AddPersonResponse {
            person: Some(person),
            etag,
        }))
    }

    async fn update_person(
        &self,
        request: Request<pb::UpdatePersonRequest>,
    ) -> Answer<pb::UpdatePersonResponse> {
        let call = call_context(&request)?;
        let ((id, etag), person_id, details) =
            request::update_person(self.resolved(request).await?).map_err(CaseError::from)?;
        let (person, etag) = self
            .store
            .update_person(id, etag.as_deref(), person_id, details, &call)
            .await?;
        Ok(Response::new(pb::UpdatePersonResponse {
            person: Some(person),
            etag,
        }))
    }

    async fn list_persons(
        &self,
        request: Request<pb::ListPersonsRequest>,
    ) -> Answer<pb::ListPersonsResponse> {
        let call = call_context(&request)?;
        let (id, role, page) =
            request::persons(&self.resolved(request).await?).map_err(CaseError::from)?;
        let (persons, next_page_token) = self.store.persons(id, role, &page, &call).await?;
        Ok(Response::new(pb::ListPersonsResponse {
            persons,
            next_page_token,
        }))
    }

    async fn remove_person(
        &self,
        request: Request<pb::RemovePersonRequest>,
    ) -> Answer<pb::RemovePersonResponse> {
        let call = call_context(&request)?;
        let ((id, etag), person, reason) =
            request::remove_person(self.resolved(request).await?).map_err(CaseError::from)?;
        let etag = self
            .store
            .remove_person(id, etag.as_deref(), person, reason, &call)
            .await?;
        Ok(Response::new(pb::RemovePersonResponse { etag }))
    }

    async fn list_casualty_candidates(
        &self,
        request: Request<pb::ListCasualtyCandidatesRequest>,
    ) -> Answer<pb::ListCasualtyCandidatesResponse> {
        let person = request::casualty_candidates(request.into_inner()).map_err(CaseError::from)?;
        let candidates = self.store.casualty_candidates(person).await?;
        Ok(Response::new(pb::ListCasualtyCandidatesResponse {
            candidates,
        }))
    }

    async fn confirm_casualty_match(
        &self,
        request: Request<pb::ConfirmCasualtyMatchRequest>,
    ) -> Answer<pb::ConfirmCasualtyMatchResponse> {
        let call = call_context(&request)?;
        let r = request.into_inner();
        let r#match = self
            .decide(
                &call,
                (r.person_id, r.other_person_id, r.reason),
                Some(Decision::Confirmed),
            )
            .await?;
        Ok(Response::new(pb::ConfirmCasualtyMatchResponse {
            r#match: Some(r#match),
        }))
    }

    async fn reject_casualty_match(
        &self,
        request: Request<pb::RejectCasualtyMatchRequest>,
    ) -> Answer<pb::RejectCasualtyMatchResponse> {
        let call = call_context(&request)?;
        let r = request.into_inner();
        let r#match = self
            .decide(
                &call,
                (r.person_id, r.other_person_id, r.reason),
                Some(Decision::Rejected),
            )
            .await?;
        Ok(Response::new(pb::RejectCasualtyMatchResponse {
            r#match: Some(r#match),
        }))
    }

    async fn undo_casualty_match(
        &self,
        request: Request<pb::UndoCasualtyMatchRequest>,
    ) -> Answer<pb::UndoCasualtyMatchResponse> {
        let call = call_context(&request)?;
        let r = request.into_inner();
        let r#match = self
            .decide(&call, (r.person_id, r.other_person_id, r.reason), None)
            .await?;
        Ok(Response::new(pb::UndoCasualtyMatchResponse {
            r#match: Some(r#match),
        }))
    }

    async fn file_charge(
        &self,
        request: Request<pb::FileChargeRequest>,
    ) -> Answer<pb::FileChargeResponse> {
        let call = call_context(&request)?;
        let ((id, etag), charge) = request::file_charge(self.resolved(request).await?, Utc::now())
            .map_err(CaseError::from)?;
        let (charge, etag) = self
            .store
            .file_charge(id, etag.as_deref(), charge, &call)
            .await?;
        Ok(Response::new(pb::FileChargeResponse {
            charge: Some(charge),
            etag,
        }))
    }

    async fn update_charge_status(
        &self,
        request: Request<pb::UpdateChargeStatusRequest>,
    ) -> Answer<pb::UpdateChargeStatusResponse> {
        let call = call_context(&request)?;
        let ((id, etag), charge, status) =
            request::update_charge_status(self.resolved(request).await?)
                .map_err(CaseError::from)?;
        let (charge, etag) = self
            .store
            .update_charge_status(id, etag.as_deref(), charge, status, &call)
            .await?;
        Ok(Response::new(pb::UpdateChargeStatusResponse {
            charge: Some(charge),
            etag,
        }))
    }

    async fn list_charges(
        &self,
        request: Request<pb::ListChargesRequest>,
    ) -> Answer<pb::ListChargesResponse> {
        let (id, page) =
            request::charges(&self.resolved(request).await?).map_err(CaseError::from)?;
        let (charges, next_page_token) = self.store.charges(id, &page).await?;
        Ok(Response::new(pb::ListChargesResponse {
            charges,
            next_page_token,
        }))
    }

    async fn link_evidence(
        &self,
        request: Request<pb::LinkEvidenceRequest>,
    ) -> Answer<pb::LinkEvidenceResponse> {
        let call = call_context(&request)?;
        let ((id, etag), link) =
            request::link_evidence(self.resolved(request).await?).map_err(CaseError::from)?;
        let evidence_id = link.evidence_id;
        let content = self.intake.check(evidence_id).await?;
        let (evidence, etag) = self
            .store
            .link_evidence(id, etag.as_deref(), link, &call)
            .await?;
        let content = [(evidence_id.to_string(), content)].into_iter().collect();
        Ok(Response::new(pb::LinkEvidenceResponse {
            evidence: with_content_verdicts(vec![evidence], &content).pop(),
            etag,
        }))
    }

    async fn unlink_evidence(
        &self,
        request: Request<pb::UnlinkEvidenceRequest>,
    ) -> Answer<pb::UnlinkEvidenceResponse> {
        let call = call_context(&request)?;
        let ((id, etag), evidence, reason) =
            request::unlink_evidence(self.resolved(request).await?).map_err(CaseError::from)?;
        let etag = self
            .store
            .unlink_evidence(id, etag.as_deref(), evidence, reason, &call)
            .await?;
        Ok(Response::new(pb::UnlinkEvidenceResponse { etag }))
    }

    async fn list_evidence(
        &self,
        request: Request<pb::ListEvidenceRequest>,
    ) -> Answer<pb::ListEvidenceResponse> {
        let (id, page) =
            request::evidence(&self.resolved(request).await?).map_err(CaseError::from)?;
        let (evidence, next_page_token) = self.store.evidence(id, &page).await?;
        let ids: Vec<uuid::Uuid> = evidence
            .iter()
            .filter_map(|item| uuid::Uuid::parse_str(&item.evidence_id).ok())
            .collect();
        let content = self.intake.content_verdicts(ids).await?;
        Ok(Response::new(pb::ListEvidenceResponse {
            evidence: with_content_verdicts(evidence, &content),
            next_page_token,
        }))
    }

    async fn record_assessment(
        &self,
        request: Request<pb::RecordAssessmentRequest>,
    ) -> Answer<pb::RecordAssessmentResponse> {
        let call = call_context(&request)?;
        let ((id, etag), assessment) =
            request::record_assessment(self.resolved(request).await?).map_err(CaseError::from)?;
        let (assessment, etag) = self
            .store
            .record_assessment(id, etag.as_deref(), assessment, &call)
            .await?;
        Ok(Response::new(pb::RecordAssessmentResponse {
            assessment: Some(assessment),
            etag,
        }))
    }

    async fn list_assessments(
        &self,
        request: Request<pb::ListAssessmentsRequest>,
    ) -> Answer<pb::ListAssessmentsResponse> {
        let (id, evidence, page) =
            request::assessments(&self.resolved(request).await?).map_err(CaseError::from)?;
        let (assessments, next_page_token) = self.store.assessments(id, evidence, &page).await?;
        Ok(Response::new(pb::ListAssessmentsResponse {
            assessments,
            next_page_token,
        }))
    }
}
