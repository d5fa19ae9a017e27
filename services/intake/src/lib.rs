//! Intake: allegations of violations as they come in, and their triage.
//!
//! Requests are parsed once, in [`request`], into domain values; [`store`] writes them in one
//! transaction each and reads them back as wire messages; [`api`] only wires the two together.
//! [`Intake::start`] opens the database, applies migrations and binds the listener, so that the
//! caller knows the address before serving.

mod access;
mod api;
mod credentials;
mod delivery;
mod entity;
mod error;
mod evidence;
mod jobs;
mod migration;
#[cfg(test)]
mod parser_properties;
/// Every request parser by message name, for property tests and the fuzz target.
#[cfg(any(test, feature = "fuzzing"))]
pub mod parsers;
mod receipt;
mod receipt_guard;
mod request;
mod search;
mod similar;
mod store;
mod timestamp;

use std::sync::Arc;

use anyhow::Context;
use docket_domain::party::KnownParties;
use docket_platform::audit::{AUDIT_ACCESS, AuditApi, Refusals};
use docket_platform::auth::{
    AccessPolicy, AccessTables, AuthLayer, ServiceCredentials, TokenVerifier,
};
use docket_platform::events::{EVENT_ACCESS, EventApi, EventLog};
use docket_platform::grpc::{GrpcHost, HostOptions};
use docket_platform::lease::{HolderIdentity, Lease};
use docket_platform::outbox::Dispatcher;
use docket_platform::reseal::Resealer;
use docket_platform::sealed_keys::SealedColumn;
use docket_platform::sealing::Sealer;
use docket_platform::shutdown::ShutdownSignal;
use docket_platform::{ServiceKind, Settings};
use docket_proto::docket::audit::v1::audit_service_server::{self, AuditServiceServer};
use docket_proto::docket::events::v1::event_service_server::{self, EventServiceServer};
use docket_proto::docket::intake::v1::intake_service_server::{IntakeServiceServer, SERVICE_NAME};
use tonic::service::Routes;

pub use access::INTAKE_ACCESS;
pub use api::IntakeApi;
pub use error::IntakeError;
pub use migration::Migrator;
pub use receipt::receipt_hash;
/// The allegations' search index, for `docket bench` to time indexing and searching at scale.
pub use search::similar::candidates as similar_candidates;
/// The near-duplicate index, for `docket bench` to measure lookups among many stored items.
pub use similar::{Candidate, HashIndex, Media, rank};

/// The largest request intake accepts: a narrative of 100 000 characters of up to 4 bytes, a
/// hundred URLs of 2 KiB and the rest fit well within it.
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Where intake keeps sealed values: every key that sealed one must be there at start.
static SEALED_COLUMNS: [SealedColumn; 2] = [
    SealedColumn {
        table: "allegations",
        column: "source_name",
        id_column: "id",
        context_prefix: "allegation",
        context_field: "source_name",
        condition: "TRUE",
    },
    SealedColumn {
        table: "allegations",
        column: "source_contact",
        id_column: "id",
        context_prefix: "allegation",
        context_field: "source_contact",
        condition: "TRUE",
    },
];

/// Who may call each method of each service this host serves; nothing else may be called.
pub const ACCESS: &AccessTables = &[
    (SERVICE_NAME, INTAKE_ACCESS),
    (audit_service_server::SERVICE_NAME, AUDIT_ACCESS),
    (event_service_server::SERVICE_NAME, EVENT_ACCESS),
];

/// The lease of the outbox dispatcher: one replica delivers at a time.
pub const DISPATCH_LEASE: &str = "intake-outbox-dispatcher";

/// How long a worker holds a post-upload job before another may take it over: longer than the
/// slowest job (ffmpeg is stopped after ten minutes).
const JOB_LEASE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The intake service, its database open and its listener bound.
#[derive(Debug)]
pub struct Intake {
    host: GrpcHost,
    api: IntakeApi,
    audit: AuditApi,
    events: EventApi,
    auth: AuthLayer,
    dispatcher: Dispatcher,
    delivery: delivery::ToCaseManagement,
    /// Held by the one replica whose dispatcher runs.
    dispatch_lease: Lease,
    /// Refused calls counted by `auth`, to be written to the audit chain in `db`.
    refusals: Refusals,
    db: sea_orm::DatabaseConnection,
    /// Re-seals what old keys sealed, once serving.
    resealer: Resealer,
    /// Post-upload jobs (perceptual hashing), run while serving.
    jobs: jobs::Runner,
    similarity: similar::Similarity,
    trusted_time: timestamp::TrustedTime,
    content_credentials: credentials::ContentCredentials,
    /// When the audit head is stamped and given-up timestamps retried.
    timestamping: docket_platform::settings::TimestampingSettings,
    /// This replica's full-text index, kept current from the event stream while serving.
    search: search::SearchIndex,
}

impl Intake {
    pub async fn start(settings: &Settings, options: HostOptions) -> anyhow::Result<Self> {
        docket_platform::files::protect(&settings.data_dir);
        let parties = KnownParties::parse(&settings.parties)
            .map_err(|violations| anyhow::anyhow!("bad setting `parties`: {violations}"))?;
        let receipts = receipt::ReceiptKey::from_settings(settings)?;
        let sealer = Sealer::from_settings(settings)?;
        let verifier = TokenVerifier::from_settings(settings)?;
        let url = settings.database_url(ServiceKind::Intake);
        let db = docket_platform::db::connect_and_migrate::<Migrator>(&url, &settings.database)
            .await
            .with_context(|| format!("cannot open the intake database {}", redact(&url)))?;
        docket_platform::sealed_keys::check(&sealer, &db, &SEALED_COLUMNS).await?;
        let resealer = Resealer::new(sealer.clone(), db.clone(), &SEALED_COLUMNS).with_pause(
            std::time::Duration::from_millis(settings.sealing.reseal_pause_ms),
        );
        let blobs = match (&settings.intake.blob_store_url, &settings.intake.blob_dir) {
            (Some(url), _) => evidence::BlobStore::s3(url, &settings.intake.blob_store_options)
                .with_context(|| format!("cannot open the blob store {url}"))?,
            (None, dir) => {
                let dir = dir
                    .clone()
                    .unwrap_or_else(|| settings.data_dir.join("blobs"));
                evidence::BlobStore::local(&dir)
                    .with_context(|| format!("cannot open the blob store {}", dir.display()))?
            }
        };
        let events = EventLog::new(db.clone());
        let search = search::SearchIndex::new(
            "allegations",
            settings
                .intake
                .search_dir
                .clone()
                .unwrap_or_else(|| settings.data_dir.join("search").join("allegations")),
            search::Allegations::new(db.clone()),
            events.clone(),
        );
        let dispatcher = Dispatcher::new(db.clone(), settings.outbox.dead_letter_policy());
        let store =
            store::AllegationStore::new(db.clone(), sealer, events.clone(), dispatcher.clone());
        // Before serving: databases of earlier versions hold unkeyed fingerprints.
        let rekeyed = store
            .rekey_fingerprints()
            .await
            .context("cannot rekey the fingerprints of earlier submissions")?;
        if rekeyed > 0 {
            tracing::info!(
                rekeyed,
                "replaced unkeyed submission fingerprints with keyed ones"
            );
        }
        let jobs = jobs::Runner::new(
            jobs::JobQueue::new(db.clone(), JOB_LEASE),
            settings.intake.post_upload_workers,
        );
        let similarity = similar::Similarity::load(
            db.clone(),
            blobs.clone(),
            settings.intake.ffmpeg.clone(),
            settings.data_dir.join("scratch"),
        )
        .await
        .context("cannot load the perceptual hashes")?;
        let trusted_time =
            timestamp::TrustedTime::from_settings(db.clone(), &settings.intake.timestamping)?;
        if trusted_time.configured() {
            let again = jobs
                .queue()
                .retry_unsupported(jobs::JobKind::TrustedTime)
                .await?
                + jobs
                    .queue()
                    .retry_given_up(jobs::JobKind::TrustedTime)
                    .await?
                + jobs
                    .queue()
                    .retry_given_up(jobs::JobKind::AuditHeadTime)
                    .await?
                + trusted_time.enqueue_missing().await?;
            if again > 0 {
                tracing::info!(
                    contents = again,
                    "a time-stamping authority is configured: timestamping the evidence stored \
                     without one, or whose attempts ran out"
                );
            }
        }
        let content_credentials = credentials::ContentCredentials::from_settings(
            db.clone(),
            blobs.clone(),
            settings.data_dir.join("scratch"),
            &settings.intake.content_credentials,
        )?;
        let unread = content_credentials.enqueue_missing().await?;
        if unread > 0 {
            tracing::info!(
                contents = unread,
                "reading the Content Credentials of evidence stored before they were read"
            );
        }
        match similar::hashing::ffmpeg_available(&settings.intake.ffmpeg).await {
            Ok(()) => {
                let again = jobs
                    .queue()
                    .retry_unsupported(jobs::JobKind::PerceptualHash)
                    .await?;
                if again > 0 {
                    tracing::info!(
                        videos = again,
                        "ffmpeg is here now: hashing the videos set aside without it"
                    );
                }
            }
            Err(why) => tracing::warn!(
                ffmpeg = %settings.intake.ffmpeg,
                %why,
                "ffmpeg cannot be run: videos will not be perceptually hashed (their jobs are \
                 set aside as unsupported until a start with ffmpeg); pictures still are"
            ),
        }
        let host = GrpcHost::bind_service(ServiceKind::Intake, settings, options)
            .await?
            .watching_database(db.clone());
        let policy = AccessPolicy::from_tables(ACCESS);
        let holder = HolderIdentity::claim(&settings.data_dir, ServiceKind::Intake.name()).await;
        let dispatch_lease =
            Lease::held_as(db.clone(), DISPATCH_LEASE, settings.leases.ttl(), holder);
        let credentials = ServiceCredentials::from_settings(settings, "intake")?;
        let refusals = Refusals::new();
        let delivery = delivery::ToCaseManagement::new(
            &settings.url(ServiceKind::CaseManagement),
            &settings.tls,
            credentials,
        )?;
        Ok(Self {
            host,
            resealer,
            api: IntakeApi::new(
                store,
                evidence::EvidenceDesk::new(evidence::EvidenceDeskParts {
                    db: db.clone(),
                    blobs,
                    events: events.clone(),
                    max_bytes: settings.intake.max_evidence_bytes,
                    sessions: evidence::UploadSessions::open(
                        settings.data_dir.join("uploads"),
                        std::time::Duration::from_secs(
                            settings.intake.upload_session_expiry_seconds,
                        ),
                        settings.intake.max_upload_sessions,
                    )
                    .context("cannot open the directory of upload sessions")?,
                    jobs: jobs.clone(),
                    similarity: similarity.clone(),
                    cases: delivery.clone(),
                    dispatcher: dispatcher.clone(),
                })
                .with_trusted_time(trusted_time.clone())
                .with_signing_key_from(settings)?,
                parties,
                receipts,
                delivery.clone(),
                search.clone(),
            ),
            audit: AuditApi::new(db.clone())
                .with_head_timestamps(Arc::new(trusted_time.audit_heads())),
            events: EventApi::new(events),
            auth: AuthLayer::new(Arc::new(verifier), policy, refusals.clone()),
            dispatcher,
            delivery,
            dispatch_lease,
            refusals,
            db,
            jobs,
            similarity,
            trusted_time,
            content_credentials,
            timestamping: settings.intake.timestamping.clone(),
            search,
        })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.host.local_addr()
    }

    /// Where the plaintext health-only listener is bound, when `health_listen` asks for one.
    pub fn health_addr(&self) -> Option<std::net::SocketAddr> {
        self.host.health_addr()
    }

    /// The leases this instance competes for, by name, with its holder id in each.
    pub fn lease_holders(&self) -> Vec<(String, String)> {
        vec![(
            DISPATCH_LEASE.to_owned(),
            self.dispatch_lease.holder().to_owned(),
        )]
    }

    /// Serves until `shutdown`, delivering accepted allegations to case management meanwhile.
    pub async fn serve(self, shutdown: ShutdownSignal) -> anyhow::Result<()> {
        let (dispatcher, delivery) = (self.dispatcher, self.delivery);
        // Dropped (and so stopped) when serving ends; each batch is one transaction.
        let _resealing = self.resealer.spawn(shutdown.clone());
        // Every replica works on the queue: claims keep two from taking the same job. In a set,
        // so that dropping this future stops it too.
        let mut post_upload = tokio::task::JoinSet::new();
        post_upload.spawn(self.similarity.clone().follow(shutdown.clone()));
        // Every replica keeps its own search index.
        post_upload.spawn(self.search.clone().follow(shutdown.clone()));
        // The audit head's timestamps, and the retry of timestamps given up in an outage.
        post_upload.spawn(timestamp::follow(
            self.trusted_time.clone(),
            self.jobs.clone(),
            self.timestamping,
            shutdown.clone(),
        ));
        post_upload.spawn(self.jobs.clone().run(
            Arc::new(jobs::PostUploadWork {
                similarity: self.similarity,
                trusted_time: self.trusted_time,
                content_credentials: self.content_credentials,
            }),
            shutdown.clone(),
        ));
        // A set, so that dropping this future (a crash, as far as the database can tell) stops
        // the dispatcher too, without releasing its lease.
        let mut dispatching = tokio::task::JoinSet::new();
        // Deliveries leave the database, so a fence could not hold them back; the lease is
        // renewed beside them (receivers are idempotent, see platform::lease).
        dispatching.spawn(
            self.dispatch_lease
                .hold(shutdown.clone(), move |signal, _fence| {
                    dispatcher.clone().run(delivery.clone(), signal)
                }),
        );
        let service = IntakeServiceServer::new(self.api)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let routes = Routes::new(service)
            .add_service(AuditServiceServer::new(self.audit))
            .add_service(EventServiceServer::new(self.events));
        let serving = self.host.serve(
            routes,
            &[
                SERVICE_NAME,
                audit_service_server::SERVICE_NAME,
                event_service_server::SERVICE_NAME,
            ],
            self.auth,
            shutdown.clone(),
        );
        // Refused calls are audited meanwhile, and those counted last before it returns.
        let served = self.refusals.write_while(self.db, shutdown, serving).await;
        // The dispatcher stops on the same signal; wait for it so no delivery is cut short.
        if let Some(Err(error)) = dispatching.join_next().await {
            tracing::error!(%error, "the outbox dispatcher failed");
        }
        // Running jobs finish (or are given back) before the database closes.
        while let Some(ended) = post_upload.join_next().await {
            if let Err(error) = ended {
                tracing::error!(%error, "the post-upload job runner failed");
            }
        }
        Ok(served?)
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    docket_platform::db::redact_url(url)
}
