//! The database unreachable for a while, under load: calls answer `UNAVAILABLE` quickly instead
//! of hanging or failing as internal errors, nothing is half-written, and the service recovers
//! by itself when the database returns. Readiness follows: health says NOT_SERVING while the
//! database is away and SERVING again after, while `liveness` stays SERVING throughout.
//! PostgreSQL only, through a proxy the test cuts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use docket_e2e::{Backend, TcpProxy, TestApp, allegation, submit_request};
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_platform::grpc::LIVENESS;
use docket_proto::docket::audit::v1 as audit;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long the database stays unreachable.
const OUTAGE: Duration = Duration::from_secs(4);
/// The longest an `UNAVAILABLE` may take: the acquire timeout (2 s) and some slack.
const QUICKLY: Duration = Duration::from_millis(3_000);

/// One answered call: when it was sent, how long it took, and its code.
struct Answer {
    sent: Instant,
    took: Duration,
    code: Code,
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        format!("SELECT COUNT(*) FROM {table}"),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get_by_index(0)
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_unreachable_calls_are_unavailable_quickly_and_recover_by_themselves() {
    let Ok(server) = std::env::var(docket_e2e::POSTGRES_VARIABLE) else {
        eprintln!("DOCKET_TEST_DATABASE_URL is not set: the database outage is not tested");
        return;
    };
    let server = url::Url::parse(&server).unwrap();
    let upstream =
        tokio::net::lookup_host((server.host_str().unwrap(), server.port().unwrap_or(5432)))
            .await
            .unwrap()
            .next()
            .unwrap();
    let proxy = TcpProxy::start(upstream).await;
    let proxy_addr = proxy.addr();
    let app = TestApp::spawn_with(Backend::Postgres, |settings| {
        let mut url = url::Url::parse(&settings.database_url(ServiceKind::Intake)).unwrap();
        url.set_ip_host(proxy_addr.ip()).unwrap();
        url.set_port(Some(proxy_addr.port())).unwrap();
        settings.intake.database_url = Some(url.to_string());
    })
    .await
    .unwrap();
    // Read past the proxy, so the test sees the database while the service cannot.
    let direct = {
        let mut url = url::Url::parse(&app.settings.database_url(ServiceKind::Intake)).unwrap();
        url.set_ip_host(upstream.ip()).unwrap();
        url.set_port(Some(upstream.port())).unwrap();
        Database::connect(url.as_str()).await.unwrap()
    };

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let mut intake = app.intake().await;
        let stop = Arc::clone(&stop);
        workers.spawn(async move {
            let mut answers = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let code = match intake.submit_allegation(submit_request(allegation())).await {
                    Ok(_) => Code::Ok,
                    Err(status) => status.code(),
                };
                answers.push(Answer {
                    sent,
                    took: sent.elapsed(),
                    code,
                });
                if code != Code::Ok {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            answers
        });
    }

    // Health, overall (readiness) and `liveness`, asked every 100 ms on a connection of its own.
    type Seen = Vec<(Instant, ServingStatus, ServingStatus)>;
    let seen: Arc<std::sync::Mutex<Seen>> = Arc::default();
    let health = {
        let stop = Arc::clone(&stop);
        let seen = Arc::clone(&seen);
        let client = HealthClient::new(docket_e2e::channel(app.intake_addr).await);
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let ask = |service: &str| {
                    let request = HealthCheckRequest {
                        service: service.to_owned(),
                    };
                    let mut client = client.clone();
                    async move { client.check(request).await.unwrap().into_inner().status() }
                };
                let ready = ask("").await;
                let alive = ask(LIVENESS).await;
                seen.lock().unwrap().push((Instant::now(), ready, alive));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let not_ready_since = |since: Instant| {
        seen.lock()
            .unwrap()
            .iter()
            .any(|(at, ready, _)| *at >= since && *ready == ServingStatus::NotServing)
    };

    tokio::time::sleep(Duration::from_secs(1)).await;
    let cut = Instant::now();
    proxy.cut();
    tokio::time::sleep(OUTAGE).await;
    // Readiness notices within its check period and timeout (2 s each); on a loaded machine
    // the outage lasts until it has.
    let noticed_by = Instant::now() + Duration::from_secs(10);
    while !not_ready_since(cut) && Instant::now() < noticed_by {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let restored = Instant::now();
    proxy.restore();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // And SERVING again once the database answers.
    let ready_by = Instant::now() + Duration::from_secs(10);
    while Instant::now() < ready_by
        && seen
            .lock()
            .unwrap()
            .last()
            .is_none_or(|(_, ready, _)| *ready != ServingStatus::Serving)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut answers = Vec::new();
    while let Some(done) = workers.join_next().await {
        answers.extend(done.unwrap());
    }
    health.await.unwrap();
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let before: Vec<ServingStatus> = seen
        .iter()
        .filter(|(at, _, _)| *at < cut)
        .map(|(_, ready, _)| *ready)
        .collect();
    assert!(
        !before.is_empty() && before.iter().all(|s| *s == ServingStatus::Serving),
        "ready before the outage: {before:?}"
    );
    let noticed = seen
        .iter()
        .find(|(at, ready, _)| *at >= cut && *ready == ServingStatus::NotServing)
        .map(|(at, _, _)| *at - cut)
        .expect("readiness says NOT_SERVING while the database is away");
    let ready_again = seen
        .iter()
        .find(|(at, ready, _)| *at >= restored && *ready == ServingStatus::Serving)
        .map(|(at, _, _)| *at - restored)
        .expect("readiness says SERVING again once the database is back");
    assert_eq!(
        seen.last().map(|(_, ready, _)| *ready),
        Some(ServingStatus::Serving),
        "and stays so"
    );
    assert!(
        seen.iter()
            .all(|(_, _, alive)| *alive == ServingStatus::Serving),
        "liveness stays SERVING throughout: restarting would not bring the database back"
    );

    let unexpected: Vec<Code> = answers
        .iter()
        .map(|a| a.code)
        .filter(|code| !matches!(code, Code::Ok | Code::Unavailable))
        .collect();
    assert!(
        unexpected.is_empty(),
        "only OK or UNAVAILABLE, not {unexpected:?}"
    );
    let unavailable: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.code == Code::Unavailable)
        .collect();
    assert!(!unavailable.is_empty(), "the outage was noticed");
    let slowest = unavailable.iter().map(|a| a.took).max().unwrap();
    assert!(
        slowest <= QUICKLY,
        "UNAVAILABLE came after {slowest:?}, not within {QUICKLY:?}"
    );
    let first_failure = unavailable.iter().map(|a| a.sent + a.took).min().unwrap();
    let recovered = answers
        .iter()
        .filter(|a| a.code == Code::Ok && a.sent >= restored)
        .map(|a| a.sent + a.took)
        .min()
        .expect("calls succeed again after the database returns");
    let ok = answers.iter().filter(|a| a.code == Code::Ok).count() as i64;
    let ok_during_outage = answers
        .iter()
        .filter(|a| a.code == Code::Ok && a.sent > cut + Duration::from_millis(100))
        .filter(|a| a.sent + a.took < restored)
        .count();
    assert_eq!(ok_during_outage, 0, "nothing succeeds without the database");

    let stored = count(&direct, "allegations").await;
    assert!(
        ok <= stored && stored <= ok + unavailable.len() as i64,
        "{ok} answered OK, {} UNAVAILABLE (a commit whose answer was cut may have landed), \
         {stored} stored",
        unavailable.len()
    );
    assert_eq!(
        count(&direct, "event_log").await,
        stored,
        "every stored allegation has its event, and no event is without its allegation"
    );
    let mut auditing = app.audit_as(app.intake_addr, Role::Auditor).await;
    let chain = auditing
        .verify_audit_chain(audit::VerifyAuditChainRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(chain.intact, "the audit chain is intact");
    eprintln!(
        "outage of {:?}: {ok} OK, {} UNAVAILABLE (slowest {slowest:?}, first {:?} after the \
         cut), first success {:?} after the restore, {stored} stored; readiness NOT_SERVING \
         {noticed:?} after the cut, SERVING {ready_again:?} after the restore",
        restored - cut,
        unavailable.len(),
        first_failure.saturating_duration_since(cut),
        recovered.saturating_duration_since(restored),
    );
    direct.close().await.unwrap();
    app.stop().await;
}
