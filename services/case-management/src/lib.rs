//! Case management: cases opened from accepted allegations or by hand, their lifecycle and legal
//! qualification, the persons in them, charges, and the authenticity of their evidence.
//!
//! As in intake: requests are parsed once, in [`request`], into domain values; [`store`] writes
//! each change in one transaction with its audit entry and reads cases back as wire messages;
//! [`api`] only wires the two together. The crime-type taxonomy is read once by [`taxonomy`] at
//! start-up. [`CaseManagement::start`] opens the database, applies migrations and binds the
//! listener, so that the caller knows the address before serving.

mod access;
mod api;
pub mod bulk;
mod custody;
mod dossier;
mod entity;
mod error;
mod intake;
mod migration;
#[cfg(test)]
mod parser_properties;
/// Every request parser by message name, for property tests and the fuzz target.
#[cfg(any(test, feature = "fuzzing"))]
pub mod parsers;
pub mod register;
mod request;
mod search;
mod store;
mod taxonomy;

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
use docket_platform::timestamp::{AuditHeads, TrustedTime};
use docket_platform::{ServiceKind, Settings};
use docket_proto::docket::audit::v1::audit_service_server::{self, AuditServiceServer};
use docket_proto::docket::cases::v1::case_service_server::{CaseServiceServer, SERVICE_NAME};
use docket_proto::docket::events::v1::event_service_server::{self, EventServiceServer};
use tonic::service::Routes;

pub use access::CASE_ACCESS;
pub use api::CaseApi;
pub use custody::DISPATCH_LEASE;
pub use error::CaseError;
pub use migration::Migrator;

/// The largest request case management accepts: a case of a hundred victim groups and a summary
/// of 10 000 characters fit well within it.
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Where case management keeps sealed values (a witness's identity, sealed once the person
/// is a witness anywhere): every key that sealed one must be there at start.
static SEALED_COLUMNS: [SealedColumn; 2] = [
    SealedColumn {
        table: "persons",
        column: "display_name",
        id_column: "id",
        context_prefix: "person",
        context_field: "display_name",
        condition: "identity_sealed",
    },
    SealedColumn {
        table: "persons",
        column: "contact",
        id_column: "id",
        context_prefix: "person",
        context_field: "contact",
        condition: "identity_sealed",
    },
];

/// Who may call each method of each service this host serves; nothing else may be called.
pub const ACCESS: &AccessTables = &[
    (SERVICE_NAME, CASE_ACCESS),
    (audit_service_server::SERVICE_NAME, AUDIT_ACCESS),
    (event_service_server::SERVICE_NAME, EVENT_ACCESS),
];

/// The case-management service, its database open and its listener bound.
#[derive(Debug)]
pub struct CaseManagement {
    host: GrpcHost,
    api: CaseApi,
    audit: AuditApi,
    events: EventApi,
    auth: AuthLayer,
    /// Refused calls counted by `auth`, to be written to the audit chain in `db`.
    refusals: Refusals,
    db: sea_orm::DatabaseConnection,
    /// Re-seals what old keys sealed, once serving.
    resealer: Resealer,
    /// Sends custody notices to intake, on the replica that holds `dispatch_lease`.
    dispatcher: Dispatcher,
    delivery: intake::IntakeEvidence,
    dispatch_lease: Lease,
    /// Timestamps the audit chain's head, when an authority is configured.
    trusted_time: TrustedTime,
    /// How often (`case_management.timestamping.audit_head_interval_seconds`).
    stamp_every: std::time::Duration,
    /// This replica's full-text index of cases, kept current from the event stream while serving.
    search: search::SearchIndex,
}

impl CaseManagement {
    pub async fn start(settings: &Settings, options: HostOptions) -> anyhow::Result<Self> {
        docket_platform::files::protect(&settings.data_dir);
        let parties = KnownParties::parse(&settings.parties)
            .map_err(|violations| anyhow::anyhow!("bad setting `parties`: {violations}"))?;
        let taxonomy = taxonomy::load(settings.case_management.taxonomy_file.as_deref())
            .context("bad setting `case_management.taxonomy_file`")?;
        let sealer = Sealer::from_settings(settings)?;
        let verifier = TokenVerifier::from_settings(settings)?;
        let url = settings.database_url(ServiceKind::CaseManagement);
        let db = docket_platform::db::connect_and_migrate::<Migrator>(&url, &settings.database)
            .await
            .with_context(|| {
                format!(
                    "cannot open the case-management database {}",
                    docket_platform::db::redact_url(&url)
                )
            })?;
        docket_platform::sealed_keys::check(&sealer, &db, &SEALED_COLUMNS).await?;
        let resealer = Resealer::new(sealer.clone(), db.clone(), &SEALED_COLUMNS).with_pause(
            std::time::Duration::from_millis(settings.sealing.reseal_pause_ms),
        );
        let host = GrpcHost::bind_service(ServiceKind::CaseManagement, settings, options)
            .await?
            .watching_database(db.clone());
        let policy = AccessPolicy::from_tables(ACCESS);
        let events = EventLog::new(db.clone());
        let refusals = Refusals::new();
        let dispatcher = Dispatcher::new(db.clone(), settings.outbox.dead_letter_policy());
        let store = store::CaseStore::load(db.clone(), sealer, events.clone(), dispatcher.clone())
            .await
            .context("cannot load the casualty register")?;
        let search = search::SearchIndex::new(
            "cases",
            settings
                .case_management
                .search_dir
                .clone()
                .unwrap_or_else(|| settings.data_dir.join("search").join("cases")),
            search::Cases::new(store.clone()),
            events.clone(),
        );
        let intake = intake::IntakeEvidence::new(
            &settings.url(ServiceKind::Intake),
            &settings.tls,
            ServiceCredentials::from_settings(settings, "case-management")?,
        )?;
        let holder =
            HolderIdentity::claim(&settings.data_dir, ServiceKind::CaseManagement.name()).await;
        let dispatch_lease =
            Lease::held_as(db.clone(), DISPATCH_LEASE, settings.leases.ttl(), holder);
        let timestamping = &settings.case_management.timestamping;
        let trusted_time =
            TrustedTime::from_settings(db.clone(), timestamping, "case_management.timestamping")?;
        Ok(Self {
            host,
            resealer,
            dispatcher,
            delivery: intake.clone(),
            dispatch_lease,
            api: CaseApi::new(store, parties, taxonomy, intake, search.clone()),
            audit: AuditApi::new(db.clone())
                .with_head_timestamps(Arc::new(AuditHeads::new(trusted_time.clone()))),
            events: EventApi::new(events),
            auth: AuthLayer::new(Arc::new(verifier), policy, refusals.clone()),
            refusals,
            db,
            trusted_time,
            stamp_every: std::time::Duration::from_secs(timestamping.audit_head_interval_seconds),
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

    /// Serves until `shutdown`, sending custody notices to intake, having the audit head
    /// timestamped and keeping the search index current meanwhile.
    pub async fn serve(self, shutdown: ShutdownSignal) -> anyhow::Result<()> {
        // Dropped (and so stopped) when serving ends; each batch is one transaction.
        let _resealing = self.resealer.spawn(shutdown.clone());
        // Every replica stamps: the head it asks for is the same, and one token is kept. In a
        // set, so that dropping this future stops it too.
        let mut stamping = tokio::task::JoinSet::new();
        stamping.spawn(docket_platform::timestamp::follow(
            self.trusted_time,
            self.stamp_every,
            shutdown.clone(),
        ));
        // Every replica keeps its own search index (in a set, for the same reason).
        let mut indexing = tokio::task::JoinSet::new();
        indexing.spawn(self.search.follow(shutdown.clone()));
        let (dispatcher, delivery) = (self.dispatcher, self.delivery);
        // A set, so that dropping this future (a crash, as far as the database can tell) stops
        // the dispatcher too, without releasing its lease. Intake records each notice once, so
        // a notice sent by a replica whose lease just lapsed does no harm.
        let mut dispatching = tokio::task::JoinSet::new();
        dispatching.spawn(
            self.dispatch_lease
                .hold(shutdown.clone(), move |signal, _fence| {
                    dispatcher.clone().run(delivery.clone(), signal)
                }),
        );
        let service = CaseServiceServer::new(self.api)
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
        // The refusals counted last are audited before the service is done.
        let served = self.refusals.write_while(self.db, shutdown, serving).await;
        // The index stops on the same signal and closes; wait for it, so that nothing writes
        // to its directory once the service is done. Serving that failed rather than stopped
        // sent no signal: the follower is stopped outright.
        if served.is_err() {
            indexing.abort_all();
        }
        while let Some(ended) = indexing.join_next().await {
            if let Err(error) = ended
                && !error.is_cancelled()
            {
                tracing::error!(%error, "the search index's follower failed");
            }
        }
        Ok(served?)
    }
}
