//! Delivering accepted allegations to case management through the outbox.
//!
//! Accepting an allegation (or marking it a duplicate) writes, in the same transaction, a
//! `ReceiveAllegation` request holding a snapshot of the allegation without its source or
//! narrative. The dispatcher sends it with this service's `service` token until case management
//! acknowledges; `ReceiveAllegation` is idempotent per allegation, so a repeat does no harm.
//! Case management believes no token alone: it asks intake (`GetAllegation`) whether the
//! allegation is accepted and whether the snapshot is the one intake would send now.

use docket_platform::auth::ServiceCredentials;
use docket_platform::outbox::Delivery;
use docket_platform::settings::TlsSettings;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::cases::v1::case_service_client::CaseServiceClient;
use docket_proto::docket::intake::v1 as pb;
use prost::Message;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// The outbox topic of deliveries to case management.
pub const TOPIC: &str = "case_management.receive_allegation";

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
    client: CaseServiceClient<InterceptedService<Channel, ServiceCredentials>>,
}

impl ToCaseManagement {
    /// A client of case management at `url` (TLS for `https://`); it connects when first used.
    pub fn new(
        url: &str,
        tls: &TlsSettings,
        credentials: ServiceCredentials,
    ) -> anyhow::Result<Self> {
        let channel = docket_platform::grpc::tls::channel(url, tls)?;
        Ok(Self {
            client: CaseServiceClient::with_interceptor(channel, credentials),
        })
    }
}

impl Delivery for ToCaseManagement {
    async fn deliver(&self, topic: &str, payload: &[u8]) -> Result<(), String> {
        if topic != TOPIC {
            return Err(format!("intake's outbox has no topic {topic:?}"));
        }
        let request = cases::ReceiveAllegationRequest::decode(payload)
            .map_err(|e| format!("the stored request does not decode: {e}"))?;
        let mut client = self.client.clone();
        client
            .receive_allegation(request)
            .await
            .map(|_| ())
            .map_err(|status| format!("{:?}: {}", status.code(), status.message()))
    }
}
