//! Delivering to case management through the outbox, and asking it about cases.
//!
//! Accepting an allegation (or marking it a duplicate) writes, in the same transaction, a
//! `ReceiveAllegation` request holding a snapshot of the allegation without its source or
//! narrative. Uploading a file registered directly to a case writes, in the upload's
//! transaction, a `ReceiveEvidence` request naming the item and the case. The dispatcher sends
//! each with this service's `service` token until case management acknowledges; both calls are
//! idempotent (per allegation, per case and item), so a repeat does no harm. Case management
//! believes no token alone: it asks intake (`GetAllegation`, `GetEvidence`) whether the
//! allegation is accepted and the snapshot the one intake would send now, or whether the item is
//! registered to that case.
//!
//! The same client asks case management about a case before intake commits to it: a case an
//! acceptance joins ([`ToCaseManagement::check_joinable`]) and a case a file is registered to
//! ([`ToCaseManagement::check_registrable`]). Case management owns cases, so it is asked each
//! time (one `GetCase`), rather than intake keeping a copy that could be stale: a mistyped,
//! unknown or closed case is refused to the caller, who can correct it, instead of reaching the
//! dispatcher, which could only retry it forever.

use docket_platform::auth::ServiceCredentials;
use docket_platform::grpc::ClientSpans;
use docket_platform::outbox::{Delivery, Failure};
use docket_platform::settings::TlsSettings;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::cases::v1::case_service_client::CaseServiceClient;
use docket_proto::docket::intake::v1 as pb;
use prost::Message;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::error::IntakeError;

/// The outbox topic of deliveries of accepted allegations to case management.
pub const TOPIC: &str = "case_management.receive_allegation";

/// The outbox topic of deliveries of evidence registered directly to a case.
pub const EVIDENCE_TOPIC: &str = "case_management.receive_evidence";

/// The request case management receives for evidence `evidence_id` registered to case
/// `case_id`, encoded for the outbox.
pub fn receive_evidence_request(evidence_id: Uuid, case_id: Uuid) -> Vec<u8> {
    cases::ReceiveEvidenceRequest {
        evidence_id: evidence_id.to_string(),
        case_id: case_id.to_string(),
    }
    .encode_to_vec()
}

/// The request case management receives for `allegation`, encoded for the outbox.
pub fn receive_request(allegation: &pb::Allegation) -> Vec<u8> {
    cases::ReceiveAllegationRequest {
        allegation: Some(cases::AllegationSnapshot::from(allegation)),
    }
    .encode_to_vec()
}

/// Sends outbox messages to case management.
#[derive(Debug, Clone)]
pub struct ToCaseManagement {
    client: CaseServiceClient<InterceptedService<ClientSpans<Channel>, ServiceCredentials>>,
}

impl ToCaseManagement {
    /// A client of case management at `url` (TLS for `https://`); it connects when first used.
    pub fn new(
        url: &str,
        tls: &TlsSettings,
        credentials: ServiceCredentials,
    ) -> anyhow::Result<Self> {
        // Each call a CLIENT span, whose trace the server continues.
        let channel = ClientSpans::new(docket_platform::grpc::tls::channel(url, tls)?);
        Ok(Self {
            client: CaseServiceClient::with_interceptor(channel, credentials),
        })
    }
}

impl ToCaseManagement {
    /// The id of the case whose reference is `reference`, asked of case management (which
    /// takes references wherever it takes a case id). Unknown: NOT_FOUND.
    pub async fn case_by_reference(&self, reference: &str) -> Result<Uuid, IntakeError> {
        let request = cases::GetCaseRequest {
            case_id: reference.to_owned(),
        };
        match self.client.clone().get_case(request).await {
            Ok(response) => response
                .into_inner()
                .r#case
                .and_then(|case| Uuid::parse_str(&case.id).ok())
                .ok_or_else(|| {
                    IntakeError::Unexpected(anyhow::anyhow!("GetCase answered without a case id"))
                }),
            Err(status) if status.code() == Code::NotFound => {
                Err(IntakeError::ReferenceNotFound(reference.to_owned()))
            }
            Err(status) => Err(IntakeError::CaseManagementUnavailable(status)),
        }
    }

    /// Case `id` as case management holds it. Unknown: [`IntakeError::CaseNotFound`]; case
    /// management not answering: [`IntakeError::CaseManagementUnavailable`].
    async fn case(&self, id: Uuid) -> Result<cases::Case, IntakeError> {
        let request = cases::GetCaseRequest {
            case_id: id.to_string(),
        };
        match self.client.clone().get_case(request).await {
            Ok(response) => response.into_inner().r#case.ok_or_else(|| {
                IntakeError::Unexpected(anyhow::anyhow!("GetCase answered without a case"))
            }),
            Err(status) if status.code() == Code::NotFound => Err(IntakeError::CaseNotFound(id)),
            Err(status) => Err(IntakeError::CaseManagementUnavailable(status)),
        }
    }

    /// The reference of case `id` when evidence can be registered to it: case management holds
    /// it and it is not closed. Asked before an upload keeps a byte.
    pub async fn check_registrable(&self, id: Uuid) -> Result<String, IntakeError> {
        let case = self.case(id).await?;
        if case.status() != cases::CaseStatus::Closed {
            return Ok(case.reference);
        }
        Err(IntakeError::CaseClosed(
            if case.close_reason() == cases::CloseReason::Merged {
                format!(
                    "case {} was merged into case {}; register the file to that case",
                    case.reference, case.merged_into_case_id
                )
            } else {
                format!(
                    "case {} is closed; no evidence can be registered to a closed case",
                    case.reference
                )
            },
        ))
    }

    /// Succeeds when case management holds case `id` and it can still take an allegation (it is
    /// not closed). Asked before an acceptance into it commits, so that a mistyped or closed
    /// case is refused to the officer rather than retried by the dispatcher forever.
    pub async fn check_joinable(&self, id: Uuid) -> Result<(), IntakeError> {
        let case = self.case(id).await?;
        if case.status() != cases::CaseStatus::Closed {
            return Ok(());
        }
        Err(IntakeError::CaseClosed(
            if case.close_reason() == cases::CloseReason::Merged {
                format!(
                    "case {} was merged into case {}; accept the allegation into that case",
                    case.reference, case.merged_into_case_id
                )
            } else {
                format!(
                    "case {} is closed; a closed case takes no allegation",
                    case.reference
                )
            },
        ))
    }
}

impl Delivery for ToCaseManagement {
    async fn deliver(&self, topic: &str, payload: &[u8]) -> Result<(), Failure> {
        let undecodable = |e: prost::DecodeError| {
            Failure::Refused(format!("the stored request does not decode: {e}"))
        };
        let mut client = self.client.clone();
        let answered = match topic {
            TOPIC => {
                let request =
                    cases::ReceiveAllegationRequest::decode(payload).map_err(undecodable)?;
                client.receive_allegation(request).await.map(|_| ())
            }
            EVIDENCE_TOPIC => {
                let request =
                    cases::ReceiveEvidenceRequest::decode(payload).map_err(undecodable)?;
                client.receive_evidence(request).await.map(|_| ())
            }
            _ => {
                return Err(Failure::Refused(format!(
                    "intake's outbox has no topic {topic:?}"
                )));
            }
        };
        answered.map_err(|status| failure(&status))
    }
}

/// Whether case management's answer can change by itself: a refusal of the request as it is
/// will not, so it ends as a dead letter; anything else (down, busy, a token being rotated) is
/// tried again.
fn failure(status: &tonic::Status) -> Failure {
    let why = format!("{:?}: {}", status.code(), status.message());
    match status.code() {
        Code::FailedPrecondition
        | Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::OutOfRange
        | Code::Unimplemented => Failure::Refused(why),
        Code::Ok
        | Code::Cancelled
        | Code::Unknown
        | Code::DeadlineExceeded
        | Code::PermissionDenied
        | Code::ResourceExhausted
        | Code::Aborted
        | Code::Internal
        | Code::Unavailable
        | Code::DataLoss
        | Code::Unauthenticated => Failure::Retry(why),
    }
}

/// The allegation an outbox request of [`TOPIC`] delivers: its id and reference.
pub fn delivered_allegation(topic: &str, payload: &[u8]) -> Option<(String, String)> {
    if topic != TOPIC {
        return None;
    }
    let snapshot = cases::ReceiveAllegationRequest::decode(payload)
        .ok()?
        .allegation?;
    Some((snapshot.id, snapshot.reference))
}

/// The evidence an outbox request of [`EVIDENCE_TOPIC`] delivers, and the case it is
/// registered to.
pub fn delivered_evidence(topic: &str, payload: &[u8]) -> Option<(String, String)> {
    if topic != EVIDENCE_TOPIC {
        return None;
    }
    let request = cases::ReceiveEvidenceRequest::decode(payload).ok()?;
    Some((request.evidence_id, request.case_id))
}
