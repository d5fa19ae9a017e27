//! Reporting: follows the event streams of intake and case management into its own projections
//! and answers statistics from them, for the office and, with small counts suppressed, for
//! publication.
//!
//! Each stream has a [`projector::Projector`] that applies events and advances its cursor in
//! one transaction. [`statistics`] turns a request into SQL over the fact tables for the office;
//! [`suppress`] withholds what must not be shown beside them. The public reads only
//! [`release`]s: fixed tables protected together and signed. Every method's failure is an
//! [`error::ReportingError`], mapped to a gRPC status in one place, as in the other services.

mod access;
mod api;
mod apply;
mod audience;
pub mod bulk;
mod content;
mod counting;
pub mod error;
mod export;
mod facts;
mod migration;
mod named;
#[cfg(test)]
mod parser_properties;
/// Every request parser by message name, for property tests and the fuzz target.
#[cfg(any(test, feature = "fuzzing"))]
pub mod parsers;
mod projector;
pub mod release;
pub mod report;
mod rollup;
mod sql;
mod statistics;
mod suppress;

#[cfg(test)]
mod projection_properties;
#[cfg(test)]
mod rollup_tests;
#[cfg(test)]
mod suppression_properties;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use docket_platform::audit::{AUDIT_ACCESS, AuditApi, Refusals};
use docket_platform::auth::{
    AccessPolicy, AccessTables, AuthLayer, ServiceCredentials, TokenVerifier,
};
use docket_platform::grpc::{GrpcHost, HostOptions};
use docket_platform::lease::{HolderIdentity, Lease};
use docket_platform::shutdown::ShutdownSignal;
use docket_platform::timestamp::{AuditHeads, TrustedTime};
use docket_platform::{ServiceKind, Settings};
use docket_proto::docket::audit::v1::audit_service_server::{self, AuditServiceServer};
use docket_proto::docket::reporting::v1::reporting_service_server::{
    ReportingServiceServer, SERVICE_NAME,
};
use tonic::service::Routes;

pub use access::REPORTING_ACCESS;
pub use migration::Migrator;

/// Who may call each method of each service this host serves; nothing else may be called.
pub const ACCESS: &AccessTables = &[
    (SERVICE_NAME, REPORTING_ACCESS),
    (audit_service_server::SERVICE_NAME, AUDIT_ACCESS),
];

/// The lease under which the projector of `stream` runs.
pub fn projector_lease(stream: &str) -> String {
    format!("reporting-projector-{stream}")
}

/// The reporting service, its database open and its listener bound.
#[derive(Debug)]
pub struct Reporting {
    host: GrpcHost,
    api: api::ReportingApi,
    audit: AuditApi,
    auth: AuthLayer,
    /// Each projector with the lease it runs under: one replica follows each stream.
    projectors: Vec<(projector::Projector, Lease)>,
    /// Refused calls counted by `auth`, to be written to the audit chain in `db`.
    refusals: Refusals,
    db: sea_orm::DatabaseConnection,
    /// Timestamps the audit chain's head, when an authority is configured.
    trusted_time: TrustedTime,
    /// How often (`reporting.timestamping.audit_head_interval_seconds`).
    stamp_every: std::time::Duration,
}

impl Reporting {
    pub async fn start(settings: &Settings, options: HostOptions) -> anyhow::Result<Self> {
        docket_platform::files::protect(&settings.data_dir);
        let url = settings.database_url(ServiceKind::Reporting);
        let verifier = TokenVerifier::from_settings(settings)?;
        let db = docket_platform::db::connect_and_migrate::<Migrator>(&url, &settings.database)
            .await
            .with_context(|| {
                format!(
                    "cannot open the reporting database {}",
                    docket_platform::db::redact_url(&url)
                )
            })?;
        let host = GrpcHost::bind_service(ServiceKind::Reporting, settings, options)
            .await?
            .watching_database(db.clone());
        let credentials = ServiceCredentials::from_settings(settings, "reporting")?;
        let projectors: Vec<projector::Projector> = [
            ("intake", ServiceKind::Intake),
            ("case-management", ServiceKind::CaseManagement),
        ]
        .into_iter()
        .map(|(stream, kind)| projector::Projector {
            stream,
            url: settings.url(kind),
            tls: settings.tls.clone(),
            credentials: credentials.clone(),
            db: db.clone(),
            connected: Arc::new(AtomicBool::new(false)),
        })
        .collect();
        let streams = projectors
            .iter()
            .map(|p| (p.stream, Arc::clone(&p.connected)))
            .collect();
        let sources = release::replay::Sources {
            streams: projectors
                .iter()
                .map(|p| release::replay::Source {
                    stream: p.stream,
                    url: p.url.clone(),
                    tls: p.tls.clone(),
                    credentials: p.credentials.clone(),
                })
                .collect(),
            data_dir: settings.data_dir.clone(),
            database: settings.database.clone(),
        };
        let refusals = Refusals::new();
        let holder = HolderIdentity::claim(&settings.data_dir, ServiceKind::Reporting.name()).await;
        let projectors = projectors
            .into_iter()
            .map(|p| {
                let lease = Lease::held_as(
                    db.clone(),
                    &projector_lease(p.stream),
                    settings.leases.ttl(),
                    holder.clone(),
                );
                (p, lease)
            })
            .collect();
        let timestamping = &settings.reporting.timestamping;
        let trusted_time =
            TrustedTime::from_settings(db.clone(), timestamping, "reporting.timestamping")?;
        Ok(Self {
            host,
            api: api::ReportingApi::new(
                db.clone(),
                settings.reporting.suppression_threshold,
                streams,
                release::service::Releases::from_settings(db.clone(), settings)?,
                sources,
            ),
            audit: AuditApi::new(db.clone())
                .with_head_timestamps(Arc::new(AuditHeads::new(trusted_time.clone()))),
            auth: AuthLayer::new(
                Arc::new(verifier),
                AccessPolicy::from_tables(ACCESS),
                refusals.clone(),
            ),
            projectors,
            refusals,
            db,
            trusted_time,
            stamp_every: std::time::Duration::from_secs(timestamping.audit_head_interval_seconds),
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
        self.projectors
            .iter()
            .map(|(p, lease)| (projector_lease(p.stream), lease.holder().to_owned()))
            .collect()
    }

    /// Serves until `shutdown`, following the event streams and having the audit head
    /// timestamped meanwhile.
    pub async fn serve(self, shutdown: ShutdownSignal) -> anyhow::Result<()> {
        let mut following = tokio::task::JoinSet::new();
        // Every replica stamps: the head it asks for is the same, and one token is kept.
        following.spawn(docket_platform::timestamp::follow(
            self.trusted_time,
            self.stamp_every,
            shutdown.clone(),
        ));
        for (projector, lease) in self.projectors {
            following.spawn(lease.hold(shutdown.clone(), move |signal, fence| {
                projector.clone().run(signal, fence)
            }));
        }
        let routes = Routes::new(ReportingServiceServer::new(self.api))
            .add_service(AuditServiceServer::new(self.audit));
        let serving = self.host.serve(
            routes,
            &[SERVICE_NAME, audit_service_server::SERVICE_NAME],
            self.auth,
            shutdown.clone(),
        );
        // Refused calls are audited meanwhile, and those counted last before it returns.
        let served = self.refusals.write_while(self.db, shutdown, serving).await;
        while following.join_next().await.is_some() {}
        Ok(served?)
    }
}
