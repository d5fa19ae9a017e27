//! Prometheus metrics at `/metrics` on their own listener (`metrics.listen`), off when unset.
//!
//! What is recorded: per RPC, `docket_rpc_requests_total{service,method,code}` and the latency
//! histogram `docket_rpc_duration_seconds{service,method}`, both when the call ends — for a
//! stream, with the code of its trailers, and `CANCELLED` when the client left before the end; the outbox's
//! `docket_outbox_backlog` and `docket_outbox_delivery_failures_total`; intake's
//! `docket_evidence_bytes_stored_total`; reporting's `docket_projection_lag_events{stream}`. Without a listener the calls that record are no-ops.
//! The full list, and the naming convention, are in docs/OPERATIONS.md ("Observing").

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
    metrics::gauge!(
        "docket_build_info",
        "version" => env!("CARGO_PKG_VERSION"),
    )
    .set(1.0);
    tokio::spawn(process_metrics());
    tracing::info!(address = %listen, "serving metrics at /metrics");
    Ok(())
}

/// The process's own gauges, after Prometheus' client conventions, every 5 s (Linux only):
/// `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_open_fds`,
/// `process_threads` and `process_start_time_seconds`.
async fn process_metrics() {
    let Ok(page) = std::fs::read_to_string("/proc/self/stat") else {
        return; // not Linux: nothing to read
    };
    if let Some(start) = start_time_seconds(&page) {
        metrics::gauge!("process_start_time_seconds").set(start);
    }
    loop {
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            for (key, name, scale) in [
                ("VmRSS:", "process_resident_memory_bytes", 1024.0),
                ("VmSize:", "process_virtual_memory_bytes", 1024.0),
                ("Threads:", "process_threads", 1.0),
            ] {
                if let Some(value) = status
                    .lines()
                    .find_map(|line| line.strip_prefix(key))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                {
                    metrics::gauge!(name).set(value * scale);
                }
            }
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            metrics::gauge!("process_open_fds").set(fds.count() as f64);
        }
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
}

/// The process's start, in seconds since the epoch, from `/proc/self/stat` (field 22, in
/// clock ticks since boot; 100 per second on Linux) and the boot time in `/proc/stat`.
fn start_time_seconds(stat: &str) -> Option<f64> {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let ticks: f64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    let boot: f64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(boot + ticks / 100.0)
}
