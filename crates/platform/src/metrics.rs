//! Prometheus metrics at `/metrics` on their own listener (`metrics.listen`), off when unset.
//!
//! What is recorded: per RPC, `docket_rpc_requests_total{service,method,code}` and the latency
//! histogram `docket_rpc_duration_seconds{service,method}`, both when the call ends — for a
//! stream, with the code of its trailers, and `CANCELLED` when the client left before the end; the outbox's
//! `docket_outbox_backlog` and `docket_outbox_delivery_failures_total`; intake's
//! `docket_evidence_bytes_stored_total`; reporting's `docket_projection_lag_events{stream}`. Without a listener the calls that record are no-ops.

use std::net::SocketAddr;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};

/// Latency buckets, in seconds: from a cached read to a slow upload.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Serves metrics on `listen`. Call once per process, inside the runtime.
pub fn install(listen: SocketAddr) -> Result<(), BuildError> {
    PrometheusBuilder::new()
        .with_http_listener(listen)
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)?
        .install()?;
    tracing::info!(address = %listen, "serving metrics at /metrics");
    Ok(())
}
