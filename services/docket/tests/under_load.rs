//! The real binary under load. Mixed traffic at concurrency 64: only the expected answers, the
//! counts add up, memory stays flat. SIGTERM under load: the calls in flight finish within the
//! grace period, the process exits cleanly, and every submission answered OK is there after a
//! restart.

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
const MIXED_CONCURRENCY: usize = 64;
const MIXED_FOR: Duration = Duration::from_secs(4);
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

/// What a mixed-load call sends, and so what it must get back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Valid,
    Invalid,
    Unauthenticated,
}

impl Kind {
    fn of(n: usize) -> Self {
        match n % 8 {
            3 | 6 => Kind::Invalid,
            5 => Kind::Unauthenticated,
            _ => Kind::Valid,
        }
    }

    fn expected(self) -> Code {
        match self {
            Kind::Valid => Code::Ok,
            Kind::Invalid => Code::InvalidArgument,
            Kind::Unauthenticated => Code::Unauthenticated,
        }
    }
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Every allegation intake holds, by paging through them.
async fn stored(
    intake: &mut IntakeServiceClient<
        tonic::service::interceptor::InterceptedService<Channel, Bearer>,
    >,
) -> usize {
    let mut count = 0;
    let mut page_token = String::new();
    loop {
        let page = intake
            .list_allegations(pb::ListAllegationsRequest {
                page_size: 1000,
                page_token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        count += page.allegations.len();
        if page.next_page_token.is_empty() {
            return count;
        }
        page_token = page.next_page_token;
    }
}

/// Drives `MIXED_CONCURRENCY` callers over eight connections for `period`; returns the
/// answers by kind and code.
async fn mixed_load(
    channels: &[Channel],
    bearer: &Bearer,
    period: Duration,
) -> std::collections::BTreeMap<(u8, i32), usize> {
    let end = Instant::now() + period;
    let mut callers = tokio::task::JoinSet::new();
    for caller in 0..MIXED_CONCURRENCY {
        let channel = channels[caller % channels.len()].clone();
        let mut authorised = IntakeServiceClient::with_interceptor(channel.clone(), bearer.clone());
        let mut anonymous = IntakeServiceClient::with_interceptor(channel, Bearer::none());
        callers.spawn(async move {
            let mut answers = Vec::new();
            let mut n = caller;
            while Instant::now() < end {
                let kind = Kind::of(n);
                n += 1;
                let answer = match kind {
                    Kind::Valid => {
                        authorised
                            .submit_allegation(submit_request(allegation()))
                            .await
                    }
                    Kind::Invalid => {
                        let mut bad = allegation();
                        bad.narrative.clear();
                        bad.victims[0].count = -3;
                        authorised.submit_allegation(submit_request(bad)).await
                    }
                    Kind::Unauthenticated => {
                        anonymous
                            .submit_allegation(submit_request(allegation()))
                            .await
                    }
                };
                let code = answer.map_or_else(|status| status.code(), |_| Code::Ok);
                answers.push((kind, code));
            }
            answers
        });
    }
    let mut tally = std::collections::BTreeMap::new();
    while let Some(answers) = callers.join_next().await {
        for (kind, code) in answers.unwrap() {
            let mut expected = kind.expected();
            if code != expected {
                expected = code; // counted apart, and reported below
                eprintln!("a {kind:?} call got {code:?}");
            }
            *tally.entry((kind as u8, expected as i32)).or_insert(0) += 1;
        }
    }
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_at_concurrency_64_gets_only_the_expected_answers_and_memory_stays_flat() {
    let server = Server::start();
    let bearer = Bearer::token(&server.token("intake_officer", "officer.aliyev"));
    let mut channels = Vec::new();
    for _ in 0..8 {
        channels.push(channel(server.intake()).await);
    }

    // A short warm-up fills the pools and caches that a steady state keeps.
    let warm_up = mixed_load(&channels, &bearer, Duration::from_secs(1)).await;
    let before = rss_kib(server.pid());
    let load = mixed_load(&channels, &bearer, MIXED_FOR).await;
    let after = rss_kib(server.pid());

    let calls = |tally: &std::collections::BTreeMap<(u8, i32), usize>, kind: Kind| -> usize {
        tally
            .iter()
            .filter(|((k, _), _)| *k == kind as u8)
            .map(|(_, n)| n)
            .sum()
    };
    let as_expected = |tally: &std::collections::BTreeMap<(u8, i32), usize>, kind: Kind| -> usize {
        tally
            .get(&(kind as u8, kind.expected() as i32))
            .copied()
            .unwrap_or(0)
    };
    for tally in [&warm_up, &load] {
        for kind in [Kind::Valid, Kind::Invalid, Kind::Unauthenticated] {
            assert_eq!(
                as_expected(tally, kind),
                calls(tally, kind),
                "every {kind:?} call answers {:?}: {tally:?}",
                kind.expected()
            );
        }
    }
    let valid = calls(&warm_up, Kind::Valid) + calls(&load, Kind::Valid);
    let mut intake = IntakeServiceClient::with_interceptor(channels[0].clone(), bearer.clone());
    assert_eq!(
        stored(&mut intake).await,
        valid,
        "each valid call stored one allegation, and nothing else was stored"
    );
    let total: usize = load.values().sum();
    eprintln!(
        "mixed load at concurrency {MIXED_CONCURRENCY} for {MIXED_FOR:?}: {total} calls \
         ({} valid, {} invalid, {} unauthenticated), {:.0} calls/s; service RSS {} MiB before, \
         {} MiB after",
        calls(&load, Kind::Valid),
        calls(&load, Kind::Invalid),
        calls(&load, Kind::Unauthenticated),
        total as f64 / MIXED_FOR.as_secs_f64(),
        before / 1024,
        after / 1024,
    );
    assert!(
        after <= before + 64 * 1024,
        "the service grew from {before} KiB to {after} KiB under steady load"
    );
    assert!(
        after <= 200 * 1024,
        "the service uses {after} KiB, over 200 MiB"
    );
    assert!(server.terminate().success());
}
