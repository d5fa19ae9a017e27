//! Bind, serve, drain.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};
use tower::ServiceBuilder;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use tonic::transport::ServerTlsConfig;

use super::metered::MeteredLayer;
use super::shed::ShedLayer;
use super::tls::TlsError;
use crate::auth::AuthLayer;
use crate::settings::Settings;

use super::layers::{MakeRequestUuidV7, REQUEST_ID_HEADER, classifier, make_span};
use crate::shutdown::ShutdownSignal;

/// How a host treats requests and shutdown.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// How long one request may run before it is cancelled.
    pub request_timeout: Duration,
    /// How long in-flight requests may take to finish after shutdown begins.
    pub shutdown_grace: Duration,
    /// Server TLS (and mutual TLS), or `None` for plaintext.
    pub tls: Option<ServerTlsConfig>,
    /// Calls one connection may have in flight; more wait.
    pub max_concurrent_requests_per_connection: usize,
    /// Calls the host handles at once; more are refused with RESOURCE_EXHAUSTED.
    pub max_in_flight_requests: usize,
}

impl HostOptions {
    /// The options the settings describe; fails on unreadable TLS files.
    pub fn from_settings(settings: &Settings) -> Result<Self, TlsError> {
        Ok(Self {
            request_timeout: Duration::from_secs(settings.request_timeout_seconds),
            shutdown_grace: Duration::from_secs(settings.shutdown_grace_seconds),
            tls: super::tls::server_config(&settings.tls)?,
            max_concurrent_requests_per_connection: settings
                .limits
                .max_concurrent_requests_per_connection
                .get(),
            max_in_flight_requests: settings.limits.max_in_flight_requests.get(),
        })
    }
}

/// Why a host stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A service's listener, bound and ready to serve.
#[derive(Debug)]
pub struct GrpcHost {
    name: &'static str,
    listener: TcpListener,
    local_addr: SocketAddr,
    health: HealthReporter,
    options: HostOptions,
}

impl GrpcHost {
    /// Binds `addr` (port 0 picks a free port). `name` names the service in logs.
    pub async fn bind(
        name: &'static str,
        addr: SocketAddr,
        options: HostOptions,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let health = HealthReporter::new();
        Ok(Self {
            name,
            listener,
            local_addr,
            health,
            options,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `routes`, whose gRPC services are `service_names`, behind `auth`, until `shutdown`;
    /// then reports
    /// NOT_SERVING, stops accepting, and lets in-flight calls finish within the grace period.
    pub async fn serve(
        self,
        routes: Routes,
        service_names: &[&'static str],
        auth: AuthLayer,
        shutdown: ShutdownSignal,
    ) -> Result<(), HostError> {
        let Self {
            name,
            listener,
            local_addr,
            health,
            options,
        } = self;
        let (reporter, health_service) = (health.clone(), health_service(&health));
        for service in service_names {
            reporter
                .set_service_status(service, ServingStatus::Serving)
                .await;
        }
        reporter
            .set_service_status("", ServingStatus::Serving)
            .await;

        let routes = routes
            .add_service(health_service)
            .add_service(reflection(service_names).build_v1()?)
            .add_service(reflection(service_names).build_v1alpha()?);
        let layers = ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(
                http::HeaderName::from_static(REQUEST_ID_HEADER),
                MakeRequestUuidV7,
            ))
            .layer(
                TraceLayer::new(classifier())
                    .make_span_with(make_span)
                    .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                    .on_failure(DefaultOnFailure::new().level(Level::WARN)),
            )
            .layer(PropagateRequestIdLayer::new(http::HeaderName::from_static(
                REQUEST_ID_HEADER,
            )))
            .layer(MeteredLayer::new(name))
            .layer(ShedLayer::new(options.max_in_flight_requests))
            .layer(auth)
            .into_inner();

        let names: Vec<&'static str> = service_names.to_vec();
        let drain_signal = shutdown.clone();
        let stop_accepting = async move {
            drain_signal.wait().await;
            // Load balancers and probes see the service going before connections close.
            for service in names {
                reporter
                    .set_service_status(service, ServingStatus::NotServing)
                    .await;
            }
            reporter
                .set_service_status("", ServingStatus::NotServing)
                .await;
            tracing::info!(service = name, "shutting down; draining in-flight calls");
        };
        let mut builder = Server::builder();
        if let Some(tls) = options.tls.clone() {
            builder = builder.tls_config(tls)?;
        }
        let server = builder
            .timeout(options.request_timeout)
            .concurrency_limit_per_connection(options.max_concurrent_requests_per_connection)
            .http2_adaptive_window(Some(true))
            .layer(layers)
            .add_routes(routes)
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                stop_accepting,
            );
        tracing::info!(service = name, address = %local_addr, "serving");

        // Long streams (a health watch, say) would hold the drain open for ever: bound it.
        let grace = options.shutdown_grace;
        let deadline = async move {
            shutdown.wait().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = server => result?,
            () = deadline => tracing::warn!(
                service = name,
                grace_seconds = grace.as_secs(),
                "grace period over; closing the remaining connections"
            ),
        }
        tracing::info!(service = name, "stopped");
        Ok(())
    }
}

/// The health service answering for `reporter`.
fn health_service(reporter: &HealthReporter) -> HealthServer<HealthService> {
    HealthServer::new(HealthService::from_health_reporter(reporter.clone()))
}

/// Reflection that lists `service_names` and health (each host only what it serves) and knows
/// every Docket message, health and the error details, so that grpcurl can show
/// `google.rpc.BadRequest` in full.
fn reflection(service_names: &[&'static str]) -> tonic_reflection::server::Builder<'static> {
    let builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(docket_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .with_service_name(HEALTH_SERVICE)
        .with_service_name(REFLECTION_V1)
        .with_service_name(REFLECTION_V1ALPHA);
    service_names
        .iter()
        .fold(builder, |builder, name| builder.with_service_name(*name))
}

const HEALTH_SERVICE: &str = "grpc.health.v1.Health";
const REFLECTION_V1: &str = "grpc.reflection.v1.ServerReflection";
const REFLECTION_V1ALPHA: &str = "grpc.reflection.v1alpha.ServerReflection";
