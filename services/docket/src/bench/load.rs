//! Closed-loop load: N workers each calling as fast as answers come, for a fixed time; latency
//! of every call kept, so percentiles are exact.

use std::future::Future;
use std::time::{Duration, Instant};

/// What a run measured.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Stats {
    pub calls: usize,
    pub errors: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Runs `call` from `concurrency` workers for `duration`. `call(worker, n)` is the n-th call of
/// a worker; an `Err` counts as an error.
pub async fn run<F, Fut>(concurrency: usize, duration: Duration, call: F) -> Stats
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let call = call.clone();
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut n = 0;
            while Instant::now() < deadline {
                let begun = Instant::now();
                if call(worker, n).await.is_err() {
                    errors += 1;
                }
                latencies.push(begun.elapsed());
                n += 1;
            }
            (latencies, errors)
        });
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    while let Some(Ok((worker_latencies, worker_errors))) = workers.join_next().await {
        latencies.extend(worker_latencies);
        errors += worker_errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1_000.0)
    };
    Stats {
        calls: latencies.len(),
        errors,
        per_second: latencies.len() as f64 / elapsed,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
    }
}
