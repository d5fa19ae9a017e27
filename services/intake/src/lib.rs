//! Intake: allegations of violations as they come in, and their triage.
//!
//! Requests are parsed once, in [`request`], into domain values; [`store`] writes them in one
//! transaction each and reads them back as wire messages; [`api`] only wires the two together.
//! [`Intake::start`] opens the database, applies migrations and binds the listener, so that the
//! caller knows the address before serving.

mod api;
mod entity;
mod error;
mod migration;
mod receipt;
mod request;
mod store;

use anyhow::Context;
use docket_domain::party::KnownParties;
use docket_platform::grpc::{GrpcHost, HostOptions};
use docket_platform::shutdown::ShutdownSignal;
use docket_platform::{ServiceKind, Settings};
use docket_proto::docket::intake::v1::intake_service_server::{IntakeServiceServer, SERVICE_NAME};
use tonic::service::Routes;

pub use api::IntakeApi;
pub use error::IntakeError;
pub use migration::Migrator;
pub use receipt::receipt_hash;

/// The largest request intake accepts: a narrative of 100 000 characters of up to 4 bytes, a
/// hundred URLs of 2 KiB and the rest fit well within it.
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// The intake service, its database open and its listener bound.
#[derive(Debug)]
pub struct Intake {
    host: GrpcHost,
    api: IntakeApi,
}

impl Intake {
    pub async fn start(settings: &Settings, options: HostOptions) -> anyhow::Result<Self> {
        let parties = KnownParties::parse(&settings.parties)
            .map_err(|violations| anyhow::anyhow!("bad setting `parties`: {violations}"))?;
        let receipts = receipt::ReceiptKey::configured_or_file(
            settings.intake.receipt_key.as_deref(),
            &settings.data_dir.join("intake-receipt.key"),
        )?;
        let url = settings.database_url(ServiceKind::Intake);
        let db = docket_platform::db::connect_and_migrate::<Migrator>(&url)
            .await
            .with_context(|| format!("cannot open the intake database {}", redact(&url)))?;
        let host = GrpcHost::bind("intake", settings.intake.listen, options)
            .await
            .with_context(|| format!("cannot bind intake to {}", settings.intake.listen))?;
        Ok(Self {
            host,
            api: IntakeApi::new(store::AllegationStore::new(db), parties, receipts),
        })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.host.local_addr()
    }

    pub async fn serve(self, shutdown: ShutdownSignal) -> anyhow::Result<()> {
        let service = IntakeServiceServer::new(self.api)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        Ok(self
            .host
            .serve(Routes::new(service), &[SERVICE_NAME], shutdown)
            .await?)
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    docket_platform::db::redact_url(url)
}
