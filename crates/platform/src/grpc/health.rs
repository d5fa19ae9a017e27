//! A plaintext listener that serves `grpc.health.v1.Health` alone, beside a service's main
//! listener (`<service>.health_listen`).
//!
//! The kubelet's gRPC probes speak plaintext only, so with TLS on the main listener they need a
//! port of their own. Health tells nothing worth hiding, so that port has neither TLS nor
//! tokens; and since it serves nothing else, it opens no way around either. It answers from the
//! main listener's reporter, so both say the same, and it closes only once the main listener
//! has drained, so that probes see NOT_SERVING during the drain rather than a refused connection.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};

use super::host::incoming;

/// The health-only listener, bound and ready to serve.
#[derive(Debug)]
pub(super) struct HealthListener {
    listener: TcpListener,
    local_addr: SocketAddr,
}

impl HealthListener {
    /// Binds `addr` (port 0 picks a free port).
    pub(super) async fn bind(addr: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        Ok(Self {
            listener,
            local_addr,
        })
    }

    /// The address actually bound.
    pub(super) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves health from `reporter` on `server` (which must not be set up for TLS) until
    /// `stop`, then lets open calls finish.
    pub(super) async fn serve(
        self,
        name: &'static str,
        mut server: Server,
        reporter: &HealthReporter,
        stop: impl Future<Output = ()>,
    ) -> Result<(), tonic::transport::Error> {
        tracing::info!(
            service = name,
            address = %self.local_addr,
            "serving health alone, in plaintext"
        );
        server
            .add_service(health_service(reporter))
            .serve_with_incoming_shutdown(incoming(self.listener), stop)
            .await
    }
}

/// The health service answering for `reporter`.
pub(super) fn health_service(reporter: &HealthReporter) -> HealthServer<HealthService> {
    HealthServer::new(HealthService::from_health_reporter(reporter.clone()))
}
