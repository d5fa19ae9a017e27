//! What case management asks intake: whether an evidence id names evidence intake holds.
//! Called with case management's own `service` token.

use docket_platform::auth::ServiceCredentials;
use docket_platform::settings::TlsSettings;
use docket_proto::docket::intake::v1 as intake;
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::error::CaseError;

/// A client of intake's evidence records.
#[derive(Debug, Clone)]
pub struct IntakeEvidence {
    client: IntakeServiceClient<InterceptedService<Channel, ServiceCredentials>>,
}

impl IntakeEvidence {
    /// A client of intake at `url` (TLS for `https://`); it connects when first used.
    pub fn new(
        url: &str,
        tls: &TlsSettings,
        credentials: ServiceCredentials,
    ) -> anyhow::Result<Self> {
        let channel = docket_platform::grpc::tls::channel(url, tls)?;
        Ok(Self {
            client: IntakeServiceClient::with_interceptor(channel, credentials),
        })
    }

    /// Succeeds when intake holds evidence `id`.
    pub async fn check(&self, id: Uuid) -> Result<(), CaseError> {
        let request = intake::GetEvidenceRequest {
            evidence_id: id.to_string(),
        };
        match self.client.clone().get_evidence(request).await {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => Err(CaseError::EvidenceUnknown(id)),
            Err(status) => Err(CaseError::IntakeUnavailable(status)),
        }
    }
}
