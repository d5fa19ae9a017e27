//! Bind, serve, drain.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::server::HealthReporter;
use tonic_reflection::pb::{v1, v1alpha};
use tower::ServiceBuilder;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use tonic::transport::ServerTlsConfig;

use super::client::ClientAddresses;
use super::deadlines::{DeadlineLayer, MethodTimeoutError, method_timeouts};
use super::health::{HealthListener, health_service};
use super::malformed::MalformedLayer;
use super::metered::MeteredLayer;
use super::readiness::Readiness;
use super::shed::ShedLayer;
use super::tls::TlsError;
use crate::auth::AuthLayer;
use crate::settings::{ServiceKind, Settings};

use super::layers::{
    MakeRequestUuidV7, REQUEST_ID_HEADER, classifier, make_span, replace_unusable_request_id,
};
use crate::shutdown::ShutdownSignal;

/// How a host treats requests and shutdown.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// How long one unary call may run before it is cancelled, and a server stream may take
    /// to start; streams are bounded by `stream_idle_timeout` instead.
    pub request_timeout: Duration,
    /// Unary methods with their own limit instead (request paths, `/package.Service/Method`).
    pub method_timeouts: HashMap<String, Duration>,
    /// How long a stream may go without a message before it is ended (see `grpc::deadlines`).
    pub stream_idle_timeout: Duration,
    /// How long in-flight requests may take to finish once the listener stops accepting.
    pub shutdown_grace: Duration,
    /// Server TLS (and mutual TLS), or `None` for plaintext.
    pub tls: Option<ServerTlsConfig>,
    /// Calls one connection may have in flight; more wait.
    pub max_concurrent_requests_per_connection: usize,
    /// Calls the host handles at once; more are refused with RESOURCE_EXHAUSTED.
    pub max_in_flight_requests: usize,
    /// Calls without a caller the host handles at once, apart from the others; more are
    /// refused with RESOURCE_EXHAUSTED.
    pub max_in_flight_anonymous_requests: usize,
    /// How the host tells its clients' addresses (behind a trusted proxy or not).
    pub client_addresses: ClientAddresses,
}

impl HostOptions {
    /// The options the settings describe; fails on unreadable TLS files and on a method time
    /// limit for a method no host serves.
    pub fn from_settings(settings: &Settings) -> Result<Self, HostOptionsError> {
        Ok(Self {
            request_timeout: Duration::from_secs(settings.request_timeout_seconds),
            method_timeouts: method_timeouts(&settings.method_timeouts)?,
            stream_idle_timeout: Duration::from_secs(settings.stream_idle_timeout_seconds.get()),
            shutdown_grace: Duration::from_secs(settings.shutdown_grace_seconds),
            tls: super::tls::server_config(&settings.tls)?,
            max_concurrent_requests_per_connection: settings
                .limits
                .max_concurrent_requests_per_connection
                .get(),
            max_in_flight_requests: settings.limits.max_in_flight_requests.get(),
            max_in_flight_anonymous_requests: settings
                .limits
                .max_in_flight_anonymous_requests
                .get(),
            client_addresses: ClientAddresses::from_settings(&settings.limits),
        })
    }
}

/// Why the settings do not make host options.
#[derive(Debug, thiserror::Error)]
pub enum HostOptionsError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    MethodTimeout(#[from] MethodTimeoutError),
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
    /// The plaintext listener that serves health alone, when one is configured.
    health_listener: Option<HealthListener>,
    /// The database whose reachability readiness reflects, if any.
    database: Option<sea_orm::DatabaseConnection>,
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
            health_listener: None,
            database: None,
            options,
        })
    }

    /// Binds the listener of the service `kind` as `settings` say, and beside it, when its
    /// `health_listen` asks for one, a plaintext listener that serves health alone.
    pub async fn bind_service(
        kind: ServiceKind,
        settings: &Settings,
        options: HostOptions,
    ) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let name = kind.name();
        let listen = settings.listen(kind);
        let host = Self::bind(name, listen, options)
            .await
            .with_context(|| format!("cannot bind {name} to {listen}"))?;
        match settings.health_listen(kind) {
            Some(addr) => host
                .with_health_listener(addr)
                .await
                .with_context(|| format!("cannot bind {name}'s health listener to {addr}")),
            None => Ok(host),
        }
    }

    /// Also binds `addr` (port 0 allowed) for a plaintext listener that serves health alone,
    /// from the same reporter as the main listener (see the `grpc::health` module).
    async fn with_health_listener(mut self, addr: SocketAddr) -> io::Result<Self> {
        self.health_listener = Some(HealthListener::bind(addr).await?);
        Ok(self)
    }

    /// Makes readiness reflect `db`: health says NOT_SERVING while it does not answer (see
    /// the `grpc::readiness` module).
    pub fn watching_database(mut self, db: sea_orm::DatabaseConnection) -> Self {
        self.database = Some(db);
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address the health-only listener actually bound, if there is one.
    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.health_listener
            .as_ref()
            .map(HealthListener::local_addr)
    }

    /// Serves `routes`, whose gRPC services are `service_names`, behind `auth`. Once `shutdown`
    /// is announced, health reports NOT_SERVING while calls are still served; once it is
    /// triggered, the listener stops accepting and in-flight calls finish within the grace
    /// period.
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
            health_listener,
            database,
            options,
        } = self;
        let health_service = health_service(&health);
        let readiness = Readiness::new(health.clone(), service_names, name);
        readiness.start().await;
        if let Some(db) = database {
            tokio::spawn(readiness.clone().watch(db, shutdown.clone()));
        }

        let routes = routes
            .add_service(health_service)
            .add_service(reflection(service_names, v1alpha::FILE_DESCRIPTOR_SET).build_v1()?)
            .add_service(reflection(service_names, v1::FILE_DESCRIPTOR_SET).build_v1alpha()?);
        let layers = ServiceBuilder::new()
            .map_request(replace_unusable_request_id)
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
            .map_request({
                let addresses = options.client_addresses.clone();
                move |request| addresses.tag(request)
            })
            // After auth, which tells anonymous calls from staff's.
            .layer(auth)
            .layer(
                ShedLayer::new(
                    options.max_in_flight_requests,
                    options.max_in_flight_anonymous_requests,
                )
                .named(name),
            )
            .layer(DeadlineLayer::with_method_timeouts(
                options.request_timeout,
                options.stream_idle_timeout,
                options.method_timeouts.clone(),
            ))
            .layer(MalformedLayer)
            .into_inner();

        // Load balancers and probes see the service going while it still accepts calls and
        // connections (`shutdown_delay_ms`), before its listener closes.
        let leaving = shutdown.clone();
        tokio::spawn(async move {
            leaving.leaving().await;
            readiness.leave().await;
            tracing::info!(
                service = name,
                "leaving: health says NOT_SERVING, calls still accepted"
            );
        });
        let drain_signal = shutdown.clone();
        let stop_accepting = async move {
            drain_signal.wait().await;
            tracing::info!(service = name, "shutting down; draining in-flight calls");
        };
        let mut builder = server_builder(&options);
        if let Some(tls) = options.tls.clone() {
            builder = builder.tls_config(tls)?;
        }
        let server = builder
            .layer(layers)
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming(listener), stop_accepting);
        tracing::info!(service = name, address = %local_addr, "serving");
        let servers = beside_health_listener(server, health_listener, name, &options, &health);

        // Long streams (a health watch, say) would hold the drain open for ever: bound it.
        let grace = options.shutdown_grace;
        let deadline = async move {
            shutdown.wait().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = servers => result?,
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

/// Runs `main`, the main listener's server, and beside it the health listener if there is one,
/// which closes only once `main` has drained (see the `grpc::health` module).
async fn beside_health_listener(
    main: impl Future<Output = Result<(), tonic::transport::Error>>,
    health_listener: Option<HealthListener>,
    name: &'static str,
    options: &HostOptions,
    reporter: &HealthReporter,
) -> Result<(), tonic::transport::Error> {
    let Some(health_listener) = health_listener else {
        return main.await;
    };
    let (drained, health_stop) = tokio::sync::oneshot::channel::<()>();
    let main = async move {
        let served = main.await;
        // No receiver means the health listener is already gone: nothing to tell.
        let _ = drained.send(());
        served
    };
    let stop = async move {
        // A dropped sender also means the main listener is gone.
        let _ = health_stop.await;
    };
    let server = server_builder(options).timeout(options.request_timeout);
    let health = health_listener.serve(name, server, reporter, stop);
    tokio::try_join!(main, health).map(|((), ())| ())
}

/// A server with the host's limits, shared by the main listener and the health listener; the
/// main one adds TLS and its layers (time limits among them: tonic's own timeout would cut
/// every stream at the request timeout), the health one tonic's timeout.
fn server_builder(options: &HostOptions) -> Server {
    Server::builder()
        .concurrency_limit_per_connection(options.max_concurrent_requests_per_connection)
        .http2_adaptive_window(Some(true))
}

/// Connections accepted on `listener`, without Nagle's delay on small answers.
pub(super) fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// Reflection that lists `service_names` and health (each host only what it serves) and knows
/// every Docket message, health and the error details, so that grpcurl can show
/// `google.rpc.BadRequest` in full.
///
/// Each version of the reflection service knows its own descriptor; `other_version` is the
/// other one's, so that a client listing every service (`grpcurl describe` with no argument,
/// `buf curl --list-methods`) can resolve both reflection services it is told about.
fn reflection(
    service_names: &[&'static str],
    other_version: &'static [u8],
) -> tonic_reflection::server::Builder<'static> {
    let builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(other_version)
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
