//! The gRPC face of intake: each call parses its request, asks the store, and wraps the answer.

use chrono::Utc;
use docket_domain::party::KnownParties;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::intake_service_server::IntakeService;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::error::IntakeError;
use crate::receipt::{ReceiptKey, receipt_hash};
use crate::request;
use crate::store::{AllegationStore, Submission, TriageCommand};

/// The intake service.
#[derive(Debug, Clone)]
pub struct IntakeApi {
    store: AllegationStore,
    parties: KnownParties,
    receipts: ReceiptKey,
}

impl IntakeApi {
    pub fn new(store: AllegationStore, parties: KnownParties, receipts: ReceiptKey) -> Self {
        Self {
            store,
            parties,
            receipts,
        }
    }

    async fn triage(&self, id: Uuid, command: TriageCommand) -> Result<pb::Allegation, Status> {
        Ok(self.store.triage(id, command).await?)
    }
}

#[tonic::async_trait]
impl IntakeService for IntakeApi {
    async fn submit_allegation(
        &self,
        request: Request<pb::SubmitAllegationRequest>,
    ) -> Result<Response<pb::SubmitAllegationResponse>, Status> {
        let command = request::submit(request.into_inner(), &self.parties, Utc::now())
            .map_err(IntakeError::from)?;
        let id = Uuid::now_v7();
        let anonymous = command.allegation.source().is_anonymous();
        let submitted = self
            .store
            .submit(Submission {
                id,
                request_id: command.request_id,
                fingerprint: command.fingerprint,
                receipt_hash: anonymous.then(|| receipt_hash(&self.receipts.receipt(id))),
                allegation: command.allegation,
            })
            .await?;
        let allegation = submitted.allegation;
        // A retry gets the receipt of the allegation first created, derived again from its id.
        let receipt = match allegation.source.as_ref() {
            Some(source) if source.anonymous => {
                let stored_id = Uuid::parse_str(&allegation.id)
                    .map_err(|e| IntakeError::Unexpected(anyhow::anyhow!("stored id: {e}")))?;
                self.receipts.receipt(stored_id)
            }
            _ => String::new(),
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
        let id = request::parse_id("id", &request.into_inner().id).map_err(IntakeError::from)?;
        let allegation = self.store.get(id).await?;
        Ok(Response::new(pb::GetAllegationResponse {
            allegation: Some(allegation),
        }))
    }

    async fn list_allegations(
        &self,
        request: Request<pb::ListAllegationsRequest>,
    ) -> Result<Response<pb::ListAllegationsResponse>, Status> {
        let query = request::list(request.into_inner()).map_err(IntakeError::from)?;
        let (allegations, next_page_token) = self.store.list(&query).await?;
        Ok(Response::new(pb::ListAllegationsResponse {
            allegations,
            next_page_token,
        }))
    }

    async fn start_review(
        &self,
        request: Request<pb::StartReviewRequest>,
    ) -> Result<Response<pb::StartReviewResponse>, Status> {
        let (id, command) =
            request::start_review(request.into_inner()).map_err(IntakeError::from)?;
        let allegation = self.triage(id, command).await?;
        Ok(Response::new(pb::StartReviewResponse {
            allegation: Some(allegation),
        }))
    }

    async fn accept_allegation(
        &self,
        request: Request<pb::AcceptAllegationRequest>,
    ) -> Result<Response<pb::AcceptAllegationResponse>, Status> {
        let id = request::parse_id("id", &request.into_inner().id).map_err(IntakeError::from)?;
        let allegation = self.triage(id, TriageCommand::Accept).await?;
        Ok(Response::new(pb::AcceptAllegationResponse {
            allegation: Some(allegation),
        }))
    }

    async fn reject_allegation(
        &self,
        request: Request<pb::RejectAllegationRequest>,
    ) -> Result<Response<pb::RejectAllegationResponse>, Status> {
        let (id, command) = request::reject(request.into_inner()).map_err(IntakeError::from)?;
        let allegation = self.triage(id, command).await?;
        Ok(Response::new(pb::RejectAllegationResponse {
            allegation: Some(allegation),
        }))
    }

    async fn mark_duplicate(
        &self,
        request: Request<pb::MarkDuplicateRequest>,
    ) -> Result<Response<pb::MarkDuplicateResponse>, Status> {
        let (id, command) =
            request::mark_duplicate(request.into_inner()).map_err(IntakeError::from)?;
        let allegation = self.triage(id, command).await?;
        Ok(Response::new(pb::MarkDuplicateResponse {
            allegation: Some(allegation),
        }))
    }
}
