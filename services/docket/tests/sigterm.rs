//! SIGTERM under load, to the real binary: the calls in flight finish within the grace period,
//! the process exits cleanly, and every submission answered OK is there after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use docket_e2e::{Bearer, allegation, submit_request};
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use process::Server;
use tonic::Code;
use tonic::transport::Channel;

mod process;

const CONCURRENCY: usize = 32;
const GRACE: Duration = Duration::from_secs(5);

/// One call: when it was sent and answered, and with what.
struct Call {
    sent: Instant,
    answered: Instant,
    outcome: Result<String, Code>,
}

async fn channel(address: &str) -> Channel {
    Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sigterm_under_load_calls_in_flight_finish_and_nothing_answered_is_lost() {
    let data = tempfile::tempdir().unwrap();
    let grace = GRACE.as_secs().to_string();
    let mut server = Server::start_in(
        data.path(),
        &[("DOCKET__SHUTDOWN_GRACE_SECONDS", grace.as_str())],
    );
    let bearer = Bearer::token(&server.token("intake_officer", "officer.aliyev"));

    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        // A connection each, as separate clients would have.
        let mut intake =
            IntakeServiceClient::with_interceptor(channel(server.intake()).await, bearer.clone());
        let stop = Arc::clone(&stop);
        clients.spawn(async move {
            let mut calls = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let outcome = intake
                    .submit_allegation(submit_request(allegation()))
                    .await
                    .map(|answer| answer.into_inner().allegation.unwrap().id)
                    .map_err(|status| status.code());
                let failed = outcome.is_err();
                calls.push(Call {
                    sent,
                    answered: Instant::now(),
                    outcome,
                });
                if failed {
                    break; // the server is going away
                }
            }
            calls
        });
    }

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let terminated = Instant::now();
    server.signal_terminate();
    let status = tokio::task::spawn_blocking(move || {
        let status = server.wait(GRACE + Duration::from_secs(5));
        (status, server)
    })
    .await
    .unwrap();
    let (status, server) = status;
    let exited = terminated.elapsed();
    drop(server);
    assert!(
        status.success(),
        "docket exits cleanly on SIGTERM: {status}"
    );
    stop.store(true, Ordering::Relaxed);
    let mut calls = Vec::new();
    while let Some(done) = clients.join_next().await {
        calls.extend(done.unwrap());
    }

    // Calls under way when the signal came finished, and within the grace period.
    let in_flight: Vec<&Call> = calls
        .iter()
        .filter(|c| c.sent < terminated && c.answered >= terminated)
        .collect();
    assert!(
        !in_flight.is_empty(),
        "the signal came while calls were in flight"
    );
    for call in &in_flight {
        assert!(
            call.answered - terminated <= GRACE,
            "a call in flight took {:?} past the signal",
            call.answered - terminated
        );
    }
    let cut_short: Vec<Code> = in_flight
        .iter()
        .filter_map(|c| c.outcome.as_ref().err().copied())
        .collect();
    let refused: Vec<Code> = calls
        .iter()
        .filter(|c| c.sent >= terminated)
        .filter_map(|c| c.outcome.as_ref().err().copied())
        .collect();
    let answered: Vec<&String> = calls
        .iter()
        .filter_map(|c| c.outcome.as_ref().ok())
        .collect();

    // Every call answered OK is there after a restart on the same data.
    let server = Server::start_in(data.path(), &[]);
    let bearer = Bearer::token(&server.token("intake_officer", "officer.aliyev"));
    let mut intake = IntakeServiceClient::with_interceptor(channel(server.intake()).await, bearer);
    for id in &answered {
        intake
            .get_allegation(pb::GetAllegationRequest { id: (*id).clone() })
            .await
            .unwrap_or_else(|status| panic!("allegation {id}, answered OK, is lost: {status}"));
    }
    eprintln!(
        "SIGTERM at concurrency {CONCURRENCY}: {} answered OK in all, {} in flight at the signal \
         ({} of them cut short: {cut_short:?}), calls sent after it refused with {refused:?}; \
         exit {exited:?} after the signal",
        answered.len(),
        in_flight.len(),
        cut_short.len(),
    );
    assert!(
        cut_short.is_empty(),
        "calls in flight at SIGTERM were cut short: {cut_short:?}"
    );
    assert!(server.terminate().success());
}
