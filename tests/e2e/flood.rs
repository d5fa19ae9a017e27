//! Anonymous callers cannot take intake from its staff: receipt guessing is refused at once with
//! the time to wait (never by keeping the call waiting), anonymous calls draw on a small budget
//! of their own, and behind a trusted proxy one guesser does not lock out every source.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use docket_e2e::{
    Backend, Bearer, IntakeClient, TestApp, allegation, channel, on_every_backend, submit_request,
};
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use tonic::Code;
use tonic_types::StatusExt;

on_every_backend!(
    an_anonymous_flood_leaves_officers_their_capacity_and_their_speed,
    guessing_receipts_too_fast_is_refused_at_once_with_the_time_to_wait,
    behind_a_trusted_proxy_one_guesser_does_not_lock_out_other_sources,
);

/// A receipt of the right shape that no allegation has.
const WRONG_RECEIPT: &str = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH";
/// Anonymous callers in the flood, spread over `FLOOD_CONNECTIONS` connections: more than the
/// whole host's in-flight limit (512), as in the attack that took intake down.
const FLOODERS: usize = 600;
const FLOOD_CONNECTIONS: usize = 10;
/// Each flooder calls once a period (when its last call has been answered), the flooders'
/// phases spread over it: the flood is bounded (`FLOODERS / FLOOD_PERIOD` calls a second, spread
/// evenly), so that what is measured is the service's defence and not two shared cores
/// saturated by the test's own debug-built client. The old guard kept each of these calls
/// waiting up to 10 s, so that nearly all 600 were in flight at once.
const FLOOD_PERIOD: Duration = Duration::from_secs(10);
/// Officers calling at once, and calls each makes per window: few at once, so that one stall of
/// the machine spoils few samples.
const OFFICERS: usize = 2;
const CALLS_PER_WINDOW: usize = 20;
/// Windows of officers' calls, idle and flooded in turn, so that whatever else loads the
/// machine meanwhile weighs on both sides alike: 8 × 2 × 20 = 320 calls on each side.
const WINDOW_PAIRS: usize = 8;
/// Comparisons made at most: one bad tail on a loaded machine is not a verdict, three are.
const ATTEMPTS: usize = 3;

async fn an_anonymous_flood_leaves_officers_their_capacity_and_their_speed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let id = app
        .intake()
        .await
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
        .id;
    let mut officers = Vec::new();
    for _ in 0..OFFICERS {
        officers.push(app.intake().await);
    }
    officer_run(&officers, &id, CALLS_PER_WINDOW)
        .await
        .expect("warm-up");
    let flood = Flood::start(&app).await;

    let mut verdicts = Vec::new();
    for attempt in 1..=ATTEMPTS {
        let (mut idle, mut during) = (Vec::new(), Vec::new());
        for _ in 0..WINDOW_PAIRS {
            flood.pause();
            idle.extend(
                officer_run(&officers, &id, CALLS_PER_WINDOW)
                    .await
                    .unwrap_or_else(|status| {
                        panic!("while the flood paused an officer's call failed: {status:?}")
                    }),
            );
            flood.resume();
            let flooded = officer_run(&officers, &id, CALLS_PER_WINDOW).await;
            during.extend(flooded.unwrap_or_else(|status| {
                panic!("during an anonymous flood an officer's call failed: {status:?}")
            }));
        }
        let (idle_median, flood_median) = (median(&idle), median(&during));
        let (idle_p99, flood_p99) = (p99(idle), p99(during));
        eprintln!(
            "attempt {attempt}: officers' p99 idle {idle_p99:?}, during the flood {flood_p99:?} \
             (medians {idle_median:?}, {flood_median:?}); {} guesses refused so far",
            flood.refused_with_retry_info()
        );
        verdicts.push((idle_p99, flood_p99));
        if flood_p99 <= idle_p99 * 2 {
            break;
        }
    }
    let refused_with_retry_info = flood.stop().await;
    assert!(
        refused_with_retry_info > 0,
        "the flood's guesses were refused with RESOURCE_EXHAUSTED and RetryInfo"
    );
    let last = verdicts.last().copied().unwrap();
    assert!(
        last.1 <= last.0 * 2,
        "officers' p99 during the flood stayed above twice the idle one in every attempt: \
         {verdicts:?}"
    );
    app.stop().await;
}

/// `calls` `GetAllegation` calls by each officer at once; the latencies, or the first failure.
async fn officer_run(
    officers: &[IntakeClient],
    id: &str,
    calls: usize,
) -> Result<Vec<Duration>, tonic::Status> {
    let runs: Vec<_> = officers
        .iter()
        .cloned()
        .map(|mut officer| {
            let id = id.to_owned();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(calls);
                for _ in 0..calls {
                    let started = Instant::now();
                    officer
                        .get_allegation(pb::GetAllegationRequest { id: id.clone() })
                        .await?;
                    latencies.push(started.elapsed());
                }
                Ok::<_, tonic::Status>(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for run in runs {
        all.extend(run.await.expect("an officer's task")?);
    }
    Ok(all)
}

fn median(latencies: &[Duration]) -> Duration {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}

fn p99(mut latencies: Vec<Duration>) -> Duration {
    latencies.sort_unstable();
    let index = (latencies.len() * 99).div_ceil(100).saturating_sub(1);
    latencies[index]
}

/// Anonymous callers guessing receipts, each once a `FLOOD_PERIOD`. They run on a runtime and
/// thread of their own, as an attacker's machine would: their client work does not queue in
/// front of the services' tasks, only their calls reach the services.
struct Flood {
    stop: Arc<AtomicBool>,
    active: Arc<AtomicBool>,
    refused_with_retry_info: Arc<AtomicUsize>,
    thread: std::thread::JoinHandle<()>,
}

impl Flood {
    async fn start(app: &TestApp) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let active = Arc::new(AtomicBool::new(true));
        let refused = Arc::new(AtomicUsize::new(0));
        let answered = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, active) = (Arc::clone(&stop), Arc::clone(&active));
            let (refused, answered) = (Arc::clone(&refused), Arc::clone(&answered));
            let addr = app.intake_addr;
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(flood(addr, stop, active, refused, answered));
            })
        };
        // Under way: every flooder has had a first answer, or a period and a second have passed
        // (the old guard kept answers waiting), whichever comes first.
        let started = Instant::now();
        while answered.load(Ordering::Relaxed) < FLOODERS
            && started.elapsed() < FLOOD_PERIOD + Duration::from_secs(1)
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Self {
            stop,
            active,
            refused_with_retry_info: refused,
            thread,
        }
    }

    /// Flooders stop calling (those in flight go on); [`Flood::resume`] starts them again.
    fn pause(&self) {
        self.active.store(false, Ordering::Relaxed);
    }

    fn resume(&self) {
        self.active.store(true, Ordering::Relaxed);
    }

    fn refused_with_retry_info(&self) -> usize {
        self.refused_with_retry_info.load(Ordering::Relaxed)
    }

    /// Stops the flood; how many of its calls were refused with RetryInfo.
    async fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .unwrap()
            .expect("the flood's thread");
        self.refused_with_retry_info.load(Ordering::Relaxed)
    }
}

/// The flooders, until `stop`; each calls only while `active`.
async fn flood(
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    active: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
    answered: Arc<AtomicUsize>,
) {
    let mut tasks = Vec::new();
    let per_connection = FLOODERS / FLOOD_CONNECTIONS;
    for connection in 0..FLOOD_CONNECTIONS {
        let client = IntakeServiceClient::with_interceptor(channel(addr).await, Bearer::none());
        for n in 0..per_connection {
            let mut client = client.clone();
            let active = Arc::clone(&active);
            let (refused, answered) = (Arc::clone(&refused), Arc::clone(&answered));
            let flooder = u32::try_from(n * FLOOD_CONNECTIONS + connection).unwrap();
            let stagger = FLOOD_PERIOD * flooder / u32::try_from(FLOODERS).unwrap();
            tasks.push(tokio::spawn(async move {
                // Each at its own phase, kept through pauses: the calls stay spread evenly.
                let first = tokio::time::Instant::now() + stagger;
                let mut ticks = tokio::time::interval_at(first, FLOOD_PERIOD);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    ticks.tick().await;
                    if !active.load(Ordering::Relaxed) {
                        continue;
                    }
                    let answer = client
                        .check_allegation_status(pb::CheckAllegationStatusRequest {
                            receipt: WRONG_RECEIPT.into(),
                        })
                        .await;
                    if let Err(status) = answer
                        && status.code() == Code::ResourceExhausted
                        && status.get_details_retry_info().is_some()
                    {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
    }
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for task in &tasks {
        task.abort();
    }
}

async fn guessing_receipts_too_fast_is_refused_at_once_with_the_time_to_wait(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let receipt = anonymous_receipt(&app).await;
    // Without a trusted proxy configured, a forwarding header changes nothing: each guess
    // claims another address, and all count against the one connection's.
    let mut guesses = 0;
    let refusal = loop {
        guesses += 1;
        assert!(
            guesses <= 10,
            "ten wrong receipts in a row were all checked"
        );
        let started = Instant::now();
        let answer = forwarded_client(&app, &format!("203.0.113.{guesses}"))
            .await
            .check_allegation_status(pb::CheckAllegationStatusRequest {
                receipt: WRONG_RECEIPT.into(),
            })
            .await
            .unwrap_err();
        if answer.code() == Code::ResourceExhausted {
            break (answer, started.elapsed());
        }
        assert_eq!(answer.code(), Code::NotFound, "{answer:?}");
    };
    assert_eq!(
        guesses, 5,
        "four wrong receipts are forgiven, the fifth waits"
    );
    let (status, took) = refusal;
    let wait = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
        .expect("the refusal carries google.rpc.RetryInfo with a delay");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_millis(250),
        "{wait:?}"
    );
    assert!(
        took < Duration::from_millis(200),
        "refused at once, not kept waiting: {took:?}"
    );
    // Whoever waits as told is checked again: the right receipt is found.
    tokio::time::sleep(wait).await;
    let status = app
        .intake_with(Bearer::none())
        .await
        .check_allegation_status(pb::CheckAllegationStatusRequest { receipt })
        .await
        .expect("after the wait, the right receipt is checked")
        .into_inner();
    assert_eq!(status.status(), pb::AllegationStatus::Received);
    app.stop().await;
}

async fn behind_a_trusted_proxy_one_guesser_does_not_lock_out_other_sources(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        settings.limits.client_address_header = Some("x-forwarded-for".into());
        settings.limits.trusted_proxies = vec!["127.0.0.0/8".to_owned().try_into().unwrap()];
    })
    .await
    else {
        return;
    };
    let receipt = anonymous_receipt(&app).await;
    // The proxy appends the address it saw: what the guesser wrote before it is not believed.
    let mut guesser = forwarded_client(&app, "198.51.100.1, 203.0.113.66").await;
    let mut codes = Vec::new();
    for _ in 0..6 {
        let answer = guesser
            .check_allegation_status(pb::CheckAllegationStatusRequest {
                receipt: WRONG_RECEIPT.into(),
            })
            .await
            .unwrap_err();
        codes.push(answer.code());
    }
    assert_eq!(codes[..4], [Code::NotFound; 4]);
    assert_eq!(codes[4..], [Code::ResourceExhausted; 2], "{codes:?}");
    let forged = forwarded_client(&app, "203.0.113.66, 198.51.100.1")
        .await
        .check_allegation_status(pb::CheckAllegationStatusRequest {
            receipt: WRONG_RECEIPT.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        forged.code(),
        Code::NotFound,
        "another address, per the proxy"
    );

    // Another source behind the same proxy is not held back by the guesser.
    let status = forwarded_client(&app, "203.0.113.7")
        .await
        .check_allegation_status(pb::CheckAllegationStatusRequest { receipt })
        .await
        .expect("another source's receipt is checked")
        .into_inner();
    assert_eq!(status.status(), pb::AllegationStatus::Received);
    app.stop().await;
}

/// The receipt of a new anonymous allegation.
async fn anonymous_receipt(app: &TestApp) -> String {
    let mut sent = allegation();
    sent.source = Some(pb::Source {
        anonymous: true,
        ..Default::default()
    });
    app.intake()
        .await
        .submit_allegation(submit_request(sent))
        .await
        .unwrap()
        .into_inner()
        .receipt
}

type ForwardedClient = IntakeServiceClient<
    tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send>,
    >,
>;

/// An anonymous client whose calls say, as a proxy would, that they come from `forwarded`.
async fn forwarded_client(app: &TestApp, forwarded: &str) -> ForwardedClient {
    let value: tonic::metadata::MetadataValue<_> = forwarded.parse().unwrap();
    IntakeServiceClient::with_interceptor(
        channel(app.intake_addr).await,
        Box::new(move |mut request: tonic::Request<()>| {
            request
                .metadata_mut()
                .insert("x-forwarded-for", value.clone());
            Ok(request)
        }) as Box<dyn FnMut(_) -> _ + Send>,
    )
}
