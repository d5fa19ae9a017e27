//! The gRPC face of intake: each call parses its request, asks the store, and wraps the answer.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use chrono::Utc;
use docket_domain::party::KnownParties;
use docket_platform::auth::CallContext;
use docket_platform::grpc::ClientAddress;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::intake_service_server::IntakeService;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use crate::delivery::ToCaseManagement;
use crate::error::IntakeError;
use crate::evidence::{self, DownloadStream, EvidenceDesk, VerifyStream};
use crate::receipt::{ReceiptKey, receipt_hash};
use crate::receipt_guard::ReceiptGuard;
use crate::request;
use crate::request::reference::Referenced;
use crate::store::{AllegationStore, DeadLetterDecision, Submission, TriageCommand};

/// The intake service.
#[derive(Debug, Clone)]
pub struct IntakeApi {
    store: AllegationStore,
    evidence: EvidenceDesk,
    parties: KnownParties,
    receipts: ReceiptKey,
    guard: Arc<ReceiptGuard>,
    /// Asked whether a case an acceptance names can take the allegation.
    cases: ToCaseManagement,
    /// This replica's search index.
    search: crate::search::SearchIndex,
}

impl IntakeApi {
    pub fn new(
        store: AllegationStore,
        evidence: EvidenceDesk,
        parties: KnownParties,
        receipts: ReceiptKey,
        cases: ToCaseManagement,
        search: crate::search::SearchIndex,
    ) -> Self {
        Self {
            store,
            evidence,
            parties,
            receipts,
            guard: Arc::default(),
            cases,
            search,
        }
    }

    async fn triage(
        &self,
        call: &CallContext,
        (id, command): (Uuid, TriageCommand),
    ) -> Result<Option<pb::Allegation>, Status> {
        Ok(Some(self.store.triage(id, command, call).await?))
    }
}

impl IntakeApi {
    /// The message of `request`, every reference in its id fields resolved into the id it
    /// names (see [`request::reference`]).
    async fn resolved<R: Referenced>(&self, request: Request<R>) -> Result<R, IntakeError> {
        let mut message = request.into_inner();
        request::reference::resolve(self.store.connection(), Some(&self.cases), &mut message)
            .await?;
        Ok(message)
    }
}

/// The context the auth layer attached; its absence means the service was mounted without it.
fn call_context<T>(request: &Request<T>) -> Result<CallContext, IntakeError> {
    CallContext::of(request).cloned().ok_or_else(|| {
        IntakeError::Unexpected(anyhow::anyhow!(
            "no call context: the auth layer is missing"
        ))
    })
}

#[tonic::async_trait]
impl IntakeService for IntakeApi {
    async fn submit_allegation(
        &self,
        request: Request<pb::SubmitAllegationRequest>,
    ) -> Result<Response<pb::SubmitAllegationResponse>, Status> {
        let call = call_context(&request)?;
        let command = request::submit(request.into_inner(), &self.parties, Utc::now())
            .map_err(IntakeError::from)?;
        let id = Uuid::now_v7();
        let anonymous = command.allegation.source().is_anonymous();
        let submitted = self
            .store
            .submit(
                Submission {
                    id,
                    request_id: command.request_id,
                    fingerprint: self.store.fingerprint(&command.digest)?,
                    digest: command.digest,
                    receipt_hash: anonymous.then(|| receipt_hash(&self.receipts.receipt(id))),
                    allegation: command.allegation,
                },
                &call,
            )
            .await?;
        let allegation = submitted.allegation;
        // A retry gets the receipt of the allegation first created, derived again from its id.
        let receipt = if anonymous {
            let stored_id = Uuid::parse_str(&allegation.id)
                .map_err(|e| IntakeError::Unexpected(anyhow::anyhow!("stored id: {e}")))?;
            self.receipts.receipt(stored_id)
        } else {
            String::new()
        };
        if submitted.created {
            tracing::info!(reference = %allegation.reference, id = %allegation.id, "allegation received");
        }
        Ok(Response::new(pb::SubmitAllegationResponse {
            allegation: Some(allegation),
            receipt,
        }))
    }

    async fn get_allegation(
        &self,
        request: Request<pb::GetAllegationRequest>,
    ) -> Result<Response<pb::GetAllegationResponse>, Status> {
        let call = call_context(&request)?;
        let id = request::parse_allegation_id("id", &self.resolved(request).await?.id)
            .map_err(IntakeError::from)?;
        let allegation = self.store.get(id, &call).await?;
        let evidence = self.evidence.of_allegation(id).await?;
        Ok(Response::new(pb::GetAllegationResponse {
            allegation: Some(allegation),
            evidence,
        }))
    }

    async fn list_allegations(
        &self,
        request: Request<pb::ListAllegationsRequest>,
    ) -> Result<Response<pb::ListAllegationsResponse>, Status> {
        let call = call_context(&request)?;
        let query = request::list(request.into_inner()).map_err(IntakeError::from)?;
        let (allegations, next_page_token) = self.store.list(&query, &call).await?;
        Ok(Response::new(pb::ListAllegationsResponse {
            allegations,
            next_page_token,
        }))
    }

    async fn start_review(
        &self,
        request: Request<pb::StartReviewRequest>,
    ) -> Result<Response<pb::StartReviewResponse>, Status> {
        let call = call_context(&request)?;
        let command = request::start_review(self.resolved(request).await?, call.subject())
            .map_err(IntakeError::from)?;
        Ok(Response::new(pb::StartReviewResponse {
            allegation: self.triage(&call, command).await?,
        }))
    }

    async fn accept_allegation(
        &self,
        request: Request<pb::AcceptAllegationRequest>,
    ) -> Result<Response<pb::AcceptAllegationResponse>, Status> {
        let call = call_context(&request)?;
        let command = request::accept(self.resolved(request).await?).map_err(IntakeError::from)?;
        if let (
            _,
            TriageCommand::Accept {
                join_case: Some(case),
                ..
            },
        ) = &command
        {
            self.cases.check_joinable(*case).await?;
        }
        Ok(Response::new(pb::AcceptAllegationResponse {
            allegation: self.triage(&call, command).await?,
        }))
    }

    async fn reject_allegation(
        &self,
        request: Request<pb::RejectAllegationRequest>,
    ) -> Result<Response<pb::RejectAllegationResponse>, Status> {
        let call = call_context(&request)?;
        let command = request::reject(self.resolved(request).await?).map_err(IntakeError::from)?;
        Ok(Response::new(pb::RejectAllegationResponse {
            allegation: self.triage(&call, command).await?,
        }))
    }

    async fn mark_duplicate(
        &self,
        request: Request<pb::MarkDuplicateRequest>,
    ) -> Result<Response<pb::MarkDuplicateResponse>, Status> {
        let call = call_context(&request)?;
        let command =
            request::mark_duplicate(self.resolved(request).await?).map_err(IntakeError::from)?;
        Ok(Response::new(pb::MarkDuplicateResponse {
            allegation: self.triage(&call, command).await?,
        }))
    }

    async fn update_allegation(
        &self,
        request: Request<pb::UpdateAllegationRequest>,
    ) -> Result<Response<pb::UpdateAllegationResponse>, Status> {
        let call = call_context(&request)?;
        let correction =
            request::update(self.resolved(request).await?).map_err(IntakeError::from)?;
        let allegation = self
            .store
            .correct(correction, &self.parties, Utc::now(), &call)
            .await?;
        Ok(Response::new(pb::UpdateAllegationResponse {
            allegation: Some(allegation),
        }))
    }

    async fn reopen_allegation(
        &self,
        request: Request<pb::ReopenAllegationRequest>,
    ) -> Result<Response<pb::ReopenAllegationResponse>, Status> {
        let call = call_context(&request)?;
        let command = request::reopen(self.resolved(request).await?, call.subject())
            .map_err(IntakeError::from)?;
        Ok(Response::new(pb::ReopenAllegationResponse {
            allegation: self.triage(&call, command).await?,
        }))
    }

    async fn list_dead_letters(
        &self,
        request: Request<pb::ListDeadLettersRequest>,
    ) -> Result<Response<pb::ListDeadLettersResponse>, Status> {
        let page = request::dead_letters(request.get_ref()).map_err(IntakeError::from)?;
        let (dead_letters, next_page_token) = self.store.dead_letters(&page).await?;
        Ok(Response::new(pb::ListDeadLettersResponse {
            dead_letters,
            next_page_token,
        }))
    }

    async fn retry_dead_letter(
        &self,
        request: Request<pb::RetryDeadLetterRequest>,
    ) -> Result<Response<pb::RetryDeadLetterResponse>, Status> {
        let call = call_context(&request)?;
        let id = request::parse_id("id", &request.get_ref().id).map_err(IntakeError::from)?;
        let letter = self
            .store
            .decide_dead_letter(id, DeadLetterDecision::Retry, &call)
            .await?;
        Ok(Response::new(pb::RetryDeadLetterResponse {
            dead_letter: Some(letter),
        }))
    }

    async fn drop_dead_letter(
        &self,
        request: Request<pb::DropDeadLetterRequest>,
    ) -> Result<Response<pb::DropDeadLetterResponse>, Status> {
        let call = call_context(&request)?;
        let id = request::parse_id("id", &request.get_ref().id).map_err(IntakeError::from)?;
        let letter = self
            .store
            .decide_dead_letter(id, DeadLetterDecision::Drop, &call)
            .await?;
        Ok(Response::new(pb::DropDeadLetterResponse {
            dead_letter: Some(letter),
        }))
    }

    async fn list_allegation_changes(
        &self,
        request: Request<pb::ListAllegationChangesRequest>,
    ) -> Result<Response<pb::ListAllegationChangesResponse>, Status> {
        let query = request::changes(&self.resolved(request).await?).map_err(IntakeError::from)?;
        let (changes, next_page_token) = self.store.changes(&query).await?;
        Ok(Response::new(pb::ListAllegationChangesResponse {
            changes,
            next_page_token,
        }))
    }

    async fn check_allegation_status(
        &self,
        request: Request<pb::CheckAllegationStatusRequest>,
    ) -> Result<Response<pb::CheckAllegationStatusResponse>, Status> {
        // The host attaches the client's address (behind a trusted proxy, the one it names).
        let client = ClientAddress::of(&request)
            .or_else(|| request.remote_addr().map(|addr| addr.ip()))
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let request = request.into_inner();
        // A malformed receipt cannot match anything, so it is not a guess worth counting.
        let receipt = request::receipt(&request).map_err(IntakeError::from)?;
        let admitted = self.guard.admit(client).map_err(|retry_after| {
            // No address in the log: the caller may be a source who mistyped a receipt, and a
            // source's address is as much theirs to keep as their name (the guard counts it in
            // memory only).
            tracing::debug!(?retry_after, "receipt asked again too soon: refused");
            IntakeError::TooManyGuesses { retry_after }
        })?;
        match self.store.status_by_receipt(&receipt_hash(receipt)).await? {
            Some((status, message)) => Ok(Response::new(pb::CheckAllegationStatusResponse {
                status: pb::AllegationStatus::from(status).into(),
                message_for_source: message.unwrap_or_default(),
            })),
            None => {
                admitted.failed();
                tracing::info!("status asked with an unknown receipt");
                Err(Status::not_found("no allegation has this receipt"))
            }
        }
    }

    async fn upload_evidence(
        &self,
        request: Request<Streaming<pb::UploadEvidenceRequest>>,
    ) -> Result<Response<pb::UploadEvidenceResponse>, Status> {
        let call = call_context(&request)?;
        Ok(Response::new(
            self.evidence.upload(&call, request.into_inner()).await?,
        ))
    }

    async fn start_upload(
        &self,
        request: Request<pb::StartUploadRequest>,
    ) -> Result<Response<pb::StartUploadResponse>, Status> {
        let call = call_context(&request)?;
        if let Some(metadata) = &request.get_ref().metadata {
            evidence::request::one_owner_at_most(metadata).map_err(IntakeError::from)?;
        }
        let request = self.resolved(request).await?;
        Ok(Response::new(
            self.evidence.start_upload(&call, request).await?,
        ))
    }

    async fn write_upload(
        &self,
        request: Request<Streaming<pb::WriteUploadRequest>>,
    ) -> Result<Response<pb::WriteUploadResponse>, Status> {
        let call = call_context(&request)?;
        Ok(Response::new(
            self.evidence
                .write_upload(&call, request.into_inner())
                .await?,
        ))
    }

    async fn get_upload_status(
        &self,
        request: Request<pb::GetUploadStatusRequest>,
    ) -> Result<Response<pb::GetUploadStatusResponse>, Status> {
        let call = call_context(&request)?;
        Ok(Response::new(
            self.evidence
                .upload_status(&call, request.get_ref())
                .await?,
        ))
    }

    type DownloadEvidenceStream = DownloadStream;

    async fn download_evidence(
        &self,
        request: Request<pb::DownloadEvidenceRequest>,
    ) -> Result<Response<Self::DownloadEvidenceStream>, Status> {
        let call = call_context(&request)?;
        let (id, range) =
            evidence::request::download(request.get_ref()).map_err(IntakeError::from)?;
        Ok(Response::new(
            self.evidence.download(&call, id, range).await?,
        ))
    }

    async fn get_evidence(
        &self,
        request: Request<pb::GetEvidenceRequest>,
    ) -> Result<Response<pb::GetEvidenceResponse>, Status> {
        let id = request::parse_id("evidence_id", &request.into_inner().evidence_id)
            .map_err(IntakeError::from)?;
        Ok(Response::new(pb::GetEvidenceResponse {
            evidence: Some(self.evidence.get(id).await?),
        }))
    }

    async fn list_evidence(
        &self,
        request: Request<pb::ListEvidenceRequest>,
    ) -> Result<Response<pb::ListEvidenceResponse>, Status> {
        let query =
            evidence::request::list(self.resolved(request).await?).map_err(IntakeError::from)?;
        Ok(Response::new(self.evidence.list(&query).await?))
    }

    type VerifyEvidenceStream = VerifyStream;

    async fn verify_evidence(
        &self,
        request: Request<pb::VerifyEvidenceRequest>,
    ) -> Result<Response<Self::VerifyEvidenceStream>, Status> {
        let call = call_context(&request)?;
        let id = evidence::request::verify(request.get_ref()).map_err(IntakeError::from)?;
        Ok(Response::new(self.evidence.verify(&call, id).await?))
    }

    async fn list_custody_events(
        &self,
        request: Request<pb::ListCustodyEventsRequest>,
    ) -> Result<Response<pb::ListCustodyEventsResponse>, Status> {
        let (id, page) =
            evidence::request::custody(request.get_ref()).map_err(IntakeError::from)?;
        let (events, next_page_token) = self.evidence.custody(id, &page).await?;
        Ok(Response::new(pb::ListCustodyEventsResponse {
            events,
            next_page_token,
        }))
    }

    async fn find_similar_evidence(
        &self,
        request: Request<pb::FindSimilarEvidenceRequest>,
    ) -> Result<Response<pb::FindSimilarEvidenceResponse>, Status> {
        let (id, limit) =
            evidence::request::find_similar(request.get_ref()).map_err(IntakeError::from)?;
        Ok(Response::new(self.evidence.find_similar(id, limit).await?))
    }

    async fn search_allegations(
        &self,
        request: Request<pb::SearchAllegationsRequest>,
    ) -> Result<Response<pb::SearchAllegationsResponse>, Status> {
        let query = crate::request::search::search(request.get_ref()).map_err(IntakeError::from)?;
        Ok(Response::new(
            crate::search::answer_search(&self.search, query).await?,
        ))
    }

    async fn list_similar_allegations(
        &self,
        request: Request<pb::ListSimilarAllegationsRequest>,
    ) -> Result<Response<pb::ListSimilarAllegationsResponse>, Status> {
        let (id, limit) = crate::request::search::similar(&self.resolved(request).await?)
            .map_err(IntakeError::from)?;
        Ok(Response::new(
            crate::search::answer_similar(&self.search, id, limit).await?,
        ))
    }

    async fn record_transfer(
        &self,
        request: Request<pb::RecordTransferRequest>,
    ) -> Result<Response<pb::RecordTransferResponse>, Status> {
        let call = call_context(&request)?;
        let (id, recipient, note) =
            evidence::request::transfer(request.into_inner()).map_err(IntakeError::from)?;
        let event = self
            .evidence
            .transfer(&call, id, &recipient, note.as_ref())
            .await?;
        Ok(Response::new(pb::RecordTransferResponse {
            event: Some(event),
        }))
    }

    async fn record_case_custody(
        &self,
        request: Request<pb::RecordCaseCustodyRequest>,
    ) -> Result<Response<pb::RecordCaseCustodyResponse>, Status> {
        let call = call_context(&request)?;
        let custody = evidence::case_custody(request.into_inner()).map_err(IntakeError::from)?;
        let event = self.evidence.record_case_custody(&call, custody).await?;
        Ok(Response::new(pb::RecordCaseCustodyResponse {
            event: Some(event),
        }))
    }

    async fn export_custody_report(
        &self,
        request: Request<pb::ExportCustodyReportRequest>,
    ) -> Result<Response<pb::ExportCustodyReportResponse>, Status> {
        let call = call_context(&request)?;
        let id = request::parse_id("evidence_id", &request.get_ref().evidence_id)
            .map_err(IntakeError::from)?;
        Ok(Response::new(
            self.evidence.custody_report(&call, id).await?,
        ))
    }

    async fn assess_content(
        &self,
        request: Request<pb::AssessContentRequest>,
    ) -> Result<Response<pb::AssessContentResponse>, Status> {
        let call = call_context(&request)?;
        let (subject, judgement) =
            evidence::request::assess(request.into_inner()).map_err(IntakeError::from)?;
        let assessment = self.evidence.assess(&call, &subject, judgement).await?;
        Ok(Response::new(pb::AssessContentResponse {
            assessment: Some(assessment),
        }))
    }

    async fn list_content_assessments(
        &self,
        request: Request<pb::ListContentAssessmentsRequest>,
    ) -> Result<Response<pb::ListContentAssessmentsResponse>, Status> {
        let subject =
            evidence::request::content_history(request.get_ref()).map_err(IntakeError::from)?;
        Ok(Response::new(pb::ListContentAssessmentsResponse {
            assessments: self.evidence.assessments(&subject).await?,
        }))
    }

    async fn list_review_flags(
        &self,
        request: Request<pb::ListReviewFlagsRequest>,
    ) -> Result<Response<pb::ListReviewFlagsResponse>, Status> {
        let call = call_context(&request)?;
        let query =
            evidence::request::review_flags(request.get_ref()).map_err(IntakeError::from)?;
        Ok(Response::new(
            self.evidence.review_flags(&call, &query).await?,
        ))
    }
}
