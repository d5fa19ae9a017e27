//! The connection to intake: a channel without a request timeout (an upload stream lasts as
//! long as the file takes), HTTP/2 keep-alives to notice a dead link, and the bearer token.

use std::time::Duration;

use anyhow::{Context, bail};
use docket_platform::auth::{Role, TokenIssuer};
use docket_platform::{Mode, ServiceKind, Settings};
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::Connection;

/// Messages larger than a 1 MiB chunk and its fields.
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Where to call and with what token.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    channel: Channel,
    bearer: MetadataValue<Ascii>,
}

pub type Client = IntakeServiceClient<InterceptedService<Channel, Bearer>>;

/// Puts the token on every call.
#[derive(Debug, Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

impl Target {
    pub fn new(settings: &Settings, connection: &Connection) -> anyhow::Result<Self> {
        Self::new_as(settings, connection, Role::IntakeOfficer)
    }

    /// [`Target::new`], a development token (when none is given) minted in `role`.
    pub fn new_as(
        settings: &Settings,
        connection: &Connection,
        role: Role,
    ) -> anyhow::Result<Self> {
        let url = connection
            .server
            .clone()
            .unwrap_or_else(|| settings.url(ServiceKind::Intake));
        let bearer: MetadataValue<Ascii> = format!("Bearer {}", token(settings, connection, role)?)
            .parse()
            .context("the token is not a valid header value")?;
        let channel = docket_platform::grpc::tls::endpoint(&url, &settings.tls)?
            .connect_timeout(Duration::from_secs(10))
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(20))
            .http2_adaptive_window(true)
            .connect_lazy();
        Ok(Self {
            url,
            channel,
            bearer,
        })
    }

    pub fn client(&self) -> Client {
        IntakeServiceClient::with_interceptor(self.channel.clone(), Bearer(self.bearer.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }
}

/// Whether a call that failed with `status` may succeed if made again: the link broke, the
/// server was busy or restarting.
pub fn worth_retrying(status: &tonic::Status) -> bool {
    use tonic::Code;
    match status.code() {
        Code::Unavailable
        | Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::Unknown
        | Code::Internal
        | Code::ResourceExhausted => true,
        Code::Ok
        | Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::PermissionDenied
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::Unimplemented
        | Code::DataLoss
        | Code::Unauthenticated => false,
    }
}

/// A failed call as an error a person can act on.
pub fn failed(url: &str, status: &tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{url} answered {:?}: {}", status.code(), status.message())
}

fn token(settings: &Settings, connection: &Connection, role: Role) -> anyhow::Result<String> {
    if let Some(token) = &connection.token {
        return Ok(token.trim().to_owned());
    }
    if let Some(path) = &connection.token_file {
        let token = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?;
        return Ok(token.trim().to_owned());
    }
    if settings.mode != Mode::Development {
        bail!("a production deployment mints no tokens: give --token or --token-file");
    }
    Ok(TokenIssuer::development(settings)?.mint(
        "docket-evidence",
        role,
        Duration::from_secs(3_600),
    )?)
}
