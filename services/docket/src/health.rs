//! `docket health`: asks a running service whether it is SERVING, for container healthchecks
//! (the image's HEALTHCHECK, compose) where no gRPC probe of the orchestrator's own is at hand.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use docket_platform::{ServiceKind, Settings};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Asks `kind`'s health at `address`, or where the settings say it listens: its plaintext
/// `health_listen` if set, else its main listener (TLS as configured). Succeeds only on
/// SERVING; NOT_SERVING (starting, its database unreachable, shutting down), no answer within
/// `timeout` or a refused connection are errors.
pub async fn check(
    settings: &Settings,
    kind: ServiceKind,
    address: Option<String>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let url = match (address, settings.health_listen(kind)) {
        (Some(address), _) if address.contains("://") => address,
        (Some(address), _) => format!("http://{address}"),
        (None, Some(health)) => format!("http://{}", reachable(health)),
        (None, None) => {
            let scheme = if settings.tls.cert_file.is_some() {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{}", reachable(settings.listen(kind)))
        }
    };
    let channel = docket_platform::grpc::tls::endpoint(&url, &settings.tls)?
        .connect_timeout(timeout)
        .timeout(timeout)
        .connect()
        .await
        .with_context(|| format!("cannot connect to {} at {url}", kind.name()))?;
    // The overall status (""): the host sets it with its services' own.
    let answer = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .with_context(|| format!("{} at {url} did not answer its health check", kind.name()))?;
    let status = answer.into_inner().status();
    if status == ServingStatus::Serving {
        println!("{} at {url}: SERVING", kind.name());
        Ok(())
    } else {
        anyhow::bail!("{} at {url}: {}", kind.name(), status.as_str_name())
    }
}

/// `address` with an unspecified IP (0.0.0.0, ::) replaced by the loopback, which reaches it.
fn reachable(address: SocketAddr) -> SocketAddr {
    if !address.ip().is_unspecified() {
        return address;
    }
    let loopback = if address.is_ipv4() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        IpAddr::V6(Ipv6Addr::LOCALHOST)
    };
    SocketAddr::new(loopback, address.port())
}
