//! The real binary under load. Mixed traffic at concurrency 64: only the expected answers, the
//! counts add up, memory stays flat. A restart under load, as a rolling update does it: SIGTERM
//! to the running process, which turns NOT_SERVING at once but keeps accepting calls and new
//! connections for `shutdown_delay_ms`, then drains; a new process is started on the same ports
//! once it has exited. No connection is refused and no call fails before the listener closes,
//! the calls in flight then finish, and every submission answered OK is there afterwards;
//! `docket health` passes before the signal and fails (NOT_SERVING) after it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use docket_e2e::{Backend, Bearer, TestDatabases, allegation, submit_request};
use docket_platform::ServiceKind;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use process::Server;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

mod process;

const CONCURRENCY: usize = 32;
const MIXED_CONCURRENCY: usize = 64;
const MIXED_FOR: Duration = Duration::from_secs(4);
const GRACE: Duration = Duration::from_secs(5);
/// How long the process keeps accepting after SIGTERM.
const DELAY: Duration = Duration::from_millis(2500);
/// How long a signal may take to reach the health reporter on a loaded machine.
const SIGNAL_LATENCY: Duration = Duration::from_millis(500);

/// One call: when it was sent and answered, and with what.
struct Call {
    sent: Instant,
    answered: Instant,
    outcome: Result<String, (Code, String)>,
}

/// One probe on a fresh connection: when, and what health said (or why it could not ask).
struct Probe {
    sent: Instant,
    answered: Instant,
    outcome: Result<ServingStatus, String>,
}

async fn channel(address: &str) -> Channel {
    Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// A free port on the loopback interface (free now: the test binds it again at once).
fn free_address() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string()
}

/// Runs `docket health intake --address ADDRESS`: whether it passed, and what it printed.
async fn docket_health(address: &str) -> (bool, String) {
    let address = address.to_owned();
    tokio::task::spawn_blocking(move || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_docket"))
            .args(["health", "intake", "--address", &address])
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), said)
    })
    .await
    .unwrap()
}

/// Starts `docket serve` over `databases` on the fixed `ports` (intake, case management,
/// reporting) with the restart test's shutdown timing.
fn start_on(databases: &TestDatabases, ports: &[String; 3]) -> Server {
    let delay = DELAY.as_millis().to_string();
    let grace = GRACE.as_secs().to_string();
    let urls = ServiceKind::ALL.map(|kind| databases.url(kind));
    Server::start_in(
        databases.data_dir(),
        &[
            ("DOCKET__SHUTDOWN_DELAY_MS", delay.as_str()),
            ("DOCKET__SHUTDOWN_GRACE_SECONDS", grace.as_str()),
            ("DOCKET__INTAKE__LISTEN", ports[0].as_str()),
            ("DOCKET__CASE_MANAGEMENT__LISTEN", ports[1].as_str()),
            ("DOCKET__REPORTING__LISTEN", ports[2].as_str()),
            ("DOCKET__INTAKE__DATABASE_URL", urls[0].as_str()),
            ("DOCKET__CASE_MANAGEMENT__DATABASE_URL", urls[1].as_str()),
            ("DOCKET__REPORTING__DATABASE_URL", urls[2].as_str()),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_under_load_refuses_nothing_before_the_listener_closes_on_sqlite() {
    restart_under_load(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_under_load_refuses_nothing_before_the_listener_closes_on_postgres() {
    if Backend::postgres_configured() {
        restart_under_load(Backend::Postgres).await;
    } else {
        eprintln!("DOCKET_TEST_DATABASE_URL is not set: PostgreSQL not tested");
    }
}

/// The restart, SIGTERM to the running process and a new one on the same ports once it has
/// exited, under load: no call refused before the listener closes, none answered OK lost.
async fn restart_under_load(backend: Backend) {
    let databases = Arc::new(TestDatabases::create(backend).await.unwrap());
    let ports = [free_address(), free_address(), free_address()];
    let mut server = start_on(&databases, &ports);
    let address = server.intake().to_owned();
    assert_eq!(address, ports[0]);
    let bearer = Bearer::token(&server.token("intake_officer", "officer.aliyev"));

    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        // A connection each, as separate clients would have; tonic reconnects when it drops.
        let channel = Channel::from_shared(format!("http://{address}"))
            .unwrap()
            .connect_lazy();
        let mut intake = IntakeServiceClient::with_interceptor(channel, bearer.clone());
        let stop = Arc::clone(&stop);
        clients.spawn(async move {
            let mut calls = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let outcome = intake
                    .submit_allegation(submit_request(allegation()))
                    .await
                    .map(|answer| answer.into_inner().allegation.unwrap().id)
                    .map_err(|status| (status.code(), status.message().to_owned()));
                let failed = outcome.is_err();
                calls.push(Call {
                    sent,
                    answered: Instant::now(),
                    outcome,
                });
                if failed {
                    // Between the old process and the new one: try again shortly, as a client
                    // with retries would.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            calls
        });
    }
    // A new client every 50 ms: its connection must be accepted until the listener closes.
    let prober = {
        let stop = Arc::clone(&stop);
        let address = address.clone();
        tokio::spawn(async move {
            let mut probes = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let outcome = async {
                    let channel = Channel::from_shared(format!("http://{address}"))
                        .unwrap()
                        .connect()
                        .await
                        .map_err(|error| format!("cannot connect: {error:?}"))?;
                    let answer = HealthClient::new(channel)
                        .check(tonic_health::pb::HealthCheckRequest {
                            service: "docket.intake.v1.IntakeService".to_owned(),
                        })
                        .await
                        .map_err(|status| format!("health check failed: {status}"))?;
                    Ok(answer.into_inner().status())
                }
                .await;
                probes.push(Probe {
                    sent,
                    answered: Instant::now(),
                    outcome,
                });
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            probes
        })
    };

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (healthy, said) = docket_health(&address).await;
    assert!(healthy, "`docket health` passes while serving: {said}");
    assert!(said.contains("SERVING"), "{said}");
    let terminated = Instant::now();
    server.signal_terminate();
    tokio::time::sleep(SIGNAL_LATENCY).await;
    let (healthy, said) = docket_health(&address).await;
    assert!(
        !healthy && said.contains("NOT_SERVING"),
        "`docket health` fails once the process is leaving: {said}"
    );
    assert!(
        terminated.elapsed() < DELAY,
        "and that was before the listener closed"
    );
    let (status, server) = tokio::task::spawn_blocking(move || {
        let status = server.wait(DELAY + GRACE + Duration::from_secs(5));
        (status, server)
    })
    .await
    .unwrap();
    let exited = Instant::now();
    drop(server);
    assert!(
        status.success(),
        "docket exits cleanly on SIGTERM: {status}"
    );

    // The new process on the same ports and data, under the same load.
    let ports_again = ports.clone();
    let again = Arc::clone(&databases);
    let server = tokio::task::spawn_blocking(move || start_on(&again, &ports_again))
        .await
        .unwrap();
    let restarted = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut calls = Vec::new();
    while let Some(done) = clients.join_next().await {
        calls.extend(done.unwrap());
    }
    let probes = prober.await.unwrap();

    let closed = terminated + DELAY;
    // Nobody listening, a connection told to go away (HTTP/2 GOAWAY) before the call was taken
    // up, or a call the client's connection dropped before sending it as that connection
    // closed: in every case the call was not handled (nothing is stored that was not answered
    // OK, checked below), and a client may send it again.
    let turned_away = |(code, message): &(Code, String)| {
        *code == Code::Unavailable
            || message.starts_with("h2 protocol error")
            || (*code == Code::Cancelled && message == "operation was canceled")
    };
    let failures = |from: Instant, to: Instant| -> Vec<&(Code, String)> {
        calls
            .iter()
            .filter(|c| c.sent >= from && c.sent < to)
            .filter_map(|c| c.outcome.as_ref().err())
            .collect()
    };
    // Calls answered before the listener closed: a refusal would be answered at once, so any
    // refusal during the delay is among them.
    let before_close: Vec<&(Code, String)> = calls
        .iter()
        .filter(|c| c.sent >= terminated && c.answered < closed)
        .filter_map(|c| c.outcome.as_ref().err())
        .collect();
    // Calls sent as the listener closed, on a connection the server was telling to go away
    // (HTTP/2 GOAWAY): they were not taken up (checked below: nothing stored that was not
    // answered OK), and a client may send them again.
    let at_close: Vec<(Duration, &(Code, String))> = calls
        .iter()
        .filter(|c| c.sent < closed && c.answered >= closed)
        .filter_map(|c| c.outcome.as_ref().err().map(|e| (closed - c.sent, e)))
        .collect();
    let sent_before_close = calls
        .iter()
        .filter(|c| c.sent >= terminated && c.sent < closed)
        .count();
    let in_flight_at_close: Vec<&Call> = calls
        .iter()
        .filter(|c| c.sent < closed && c.answered >= closed)
        .collect();
    let after_restart = calls.iter().filter(|c| c.sent >= restarted).count();
    let answered: Vec<&String> = calls
        .iter()
        .filter_map(|c| c.outcome.as_ref().ok())
        .collect();
    let in_gap: Vec<&(Code, String)> = failures(closed, restarted);
    let earliest_at_close = at_close.iter().map(|(before, _)| *before).max();
    let stray: Vec<&(Code, String)> = calls
        .iter()
        .filter(|c| c.answered < terminated || c.sent >= restarted)
        .filter_map(|c| c.outcome.as_ref().err())
        .collect();
    // Probes that ended before the listener closed: a refused connection ends at once, so any
    // refusal during the delay is among them; a probe that was still connecting as the
    // listener closed (and was sent GOAWAY) is not.
    let window_probes: Vec<&Probe> = probes
        .iter()
        .filter(|p| p.sent >= terminated && p.answered < closed)
        .collect();
    let refused_probes: Vec<&String> = window_probes
        .iter()
        .filter_map(|p| p.outcome.as_ref().err())
        .collect();
    let serving_late: usize = window_probes
        .iter()
        .filter(|p| p.sent >= terminated + SIGNAL_LATENCY)
        .filter(|p| {
            p.outcome
                .as_ref()
                .is_ok_and(|s| *s != ServingStatus::NotServing)
        })
        .count();
    eprintln!(
        "restart under load on {backend:?} at concurrency {CONCURRENCY}, delay {DELAY:?}: {} calls, {} answered \
         OK; {sent_before_close} sent between SIGTERM and the listener closing, {} of those \
         answered before it closed failed; {} in flight as it closed, {} of them not taken up \
         (sent at most {earliest_at_close:?} before the close); {} new connections probed then, {} refused; old process exited {:?} \
         after SIGTERM, new one serving {:?} after that; {} calls failed in between ({:?}); {} \
         sent to the new process",
        calls.len(),
        answered.len(),
        before_close.len(),
        in_flight_at_close.len(),
        at_close.len(),
        window_probes.len(),
        refused_probes.len(),
        exited - terminated,
        restarted - exited,
        in_gap.len(),
        in_gap.iter().map(|(code, _)| *code).collect::<Vec<_>>(),
        after_restart,
    );

    assert!(
        exited - terminated >= DELAY,
        "the process kept serving for the delay: it exited {:?} after SIGTERM",
        exited - terminated
    );
    assert!(
        sent_before_close > CONCURRENCY,
        "calls were sent while the process was leaving"
    );
    assert!(
        before_close.is_empty(),
        "no call sent before the listener closed may fail: {before_close:?}"
    );
    assert!(
        window_probes.len() >= 5,
        "new connections were tried while the process was leaving"
    );
    assert!(
        refused_probes.is_empty(),
        "new connections were refused before the listener closed: {refused_probes:?}"
    );
    assert_eq!(
        serving_late, 0,
        "health says NOT_SERVING from the signal on, while still accepting"
    );
    assert!(
        at_close.iter().all(|(_, e)| turned_away(e)),
        "calls sent as the listener closed were turned away, not failed: {at_close:?}"
    );
    for call in &in_flight_at_close {
        assert!(
            call.answered - closed <= GRACE,
            "a call in flight took {:?} past the close",
            call.answered - closed
        );
    }
    let odd: Vec<&&(Code, String)> = in_gap.iter().filter(|e| !turned_away(e)).collect();
    assert!(
        odd.is_empty(),
        "between the processes calls find nobody listening or a connection going away: {odd:?}"
    );
    assert!(
        stray.is_empty(),
        "calls failed outside the restart: {stray:?}"
    );
    assert!(
        after_restart > 0,
        "the load went on against the new process"
    );

    // Every call answered OK, by either process, is there.
    let bearer = Bearer::token(&server.token("intake_officer", "officer.aliyev"));
    let mut intake = IntakeServiceClient::with_interceptor(channel(server.intake()).await, bearer);
    for id in &answered {
        intake
            .get_allegation(pb::GetAllegationRequest { id: (*id).clone() })
            .await
            .unwrap_or_else(|status| panic!("allegation {id}, answered OK, is lost: {status}"));
    }
    assert_eq!(
        stored(&mut intake).await,
        answered.len(),
        "every allegation stored was answered OK (no call cut short after it was written)"
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
