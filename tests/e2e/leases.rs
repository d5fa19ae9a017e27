//! Several replicas on one database: the outbox dispatcher and each reporting projector run in
//! exactly one of them at a time, and another takes over within the lease's TTL when it dies.

use std::num::NonZeroU64;
use std::time::Duration;

use docket_e2e::{
    Backend, Bearer, IntakeClient, ReportingClient, TestApp, accept_new, channel, on_every_backend,
};
use docket_intake::DISPATCH_LEASE;
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_platform::lease::current_holder;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use docket_proto::docket::reporting::v1 as rep;
use docket_proto::docket::reporting::v1::reporting_service_client::ReportingServiceClient;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

on_every_backend!(
    one_dispatcher_delivers_at_a_time_and_a_replica_takes_over_when_it_dies,
    one_projector_per_stream_counts_and_a_replica_takes_over_without_doubling,
    a_replica_restarted_after_a_crash_takes_its_own_leases_back_at_once,
);

const TTL: Duration = Duration::from_secs(2);

async fn with_short_leases(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |settings| {
        settings.leases.ttl_seconds = NonZeroU64::new(TTL.as_secs()).unwrap();
    })
    .await
}

fn holder_in(holders: &[(String, String)], lease: &str) -> String {
    holders
        .iter()
        .find(|(name, _)| name == lease)
        .map(|(_, holder)| holder.clone())
        .unwrap()
}

/// The holder of `lease` once one of `candidates` has it (or after 10 s).
async fn held_by_one_of(db: &DatabaseConnection, lease: &str, candidates: &[&str]) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(holder) = current_holder(db, lease).await.unwrap()
            && candidates.contains(&holder.as_str())
        {
            return holder;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nobody took the lease {lease}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Checks for `period` that `lease` stays with `holder`.
async fn stays_with(db: &DatabaseConnection, lease: &str, holder: &str, period: Duration) {
    let end = tokio::time::Instant::now() + period;
    while tokio::time::Instant::now() < end {
        assert_eq!(
            current_holder(db, lease).await.unwrap().as_deref(),
            Some(holder),
            "the lease {lease} stays with one holder"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn intake_at(app: &TestApp, addr: std::net::SocketAddr) -> IntakeClient {
    let bearer = Bearer::token(&app.token(Role::IntakeOfficer, "officer.aliyev"));
    IntakeServiceClient::with_interceptor(channel(addr).await, bearer)
}

/// Waits until case management has a case for each of `allegations`, and returns the number
/// of cases in all.
async fn cases_for(app: &TestApp, allegations: &[String]) -> usize {
    let mut cases = app.cases().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let all = cases
            .list_cases(cases::ListCasesRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .cases;
        let complete = allegations
            .iter()
            .all(|id| all.iter().any(|case| case.allegation_ids.contains(id)));
        if complete {
            return all.len();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every acceptance arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn one_dispatcher_delivers_at_a_time_and_a_replica_takes_over_when_it_dies(backend: Backend) {
    let Some(mut app) = with_short_leases(backend).await else {
        return;
    };
    let replica = app.start_replica(ServiceKind::Intake).await;
    let db = Database::connect(app.settings.database_url(ServiceKind::Intake))
        .await
        .unwrap();
    let first = holder_in(&app.lease_holders, DISPATCH_LEASE);
    let second = holder_in(&replica.lease_holders, DISPATCH_LEASE);
    let holder = held_by_one_of(&db, DISPATCH_LEASE, &[&first, &second]).await;

    let mut through_first = app.intake().await;
    let mut through_second = intake_at(&app, replica.addr).await;
    let mut accepted = Vec::new();
    for _ in 0..3 {
        accepted.push(accept_new(&mut through_first).await);
        accepted.push(accept_new(&mut through_second).await);
    }
    assert_eq!(cases_for(&app, &accepted).await, 6);
    stays_with(&db, DISPATCH_LEASE, &holder, TTL * 2).await;

    // The holder dies without releasing its lease; the other must wait out the TTL.
    let died = tokio::time::Instant::now();
    let (mut survivor, replica) = if holder == first {
        app.kill_intake().await;
        (through_second, Some(replica))
    } else {
        replica.kill().await;
        (through_first, None)
    };
    for _ in 0..3 {
        accepted.push(accept_new(&mut survivor).await);
    }
    let other = if holder == first { &second } else { &first };
    held_by_one_of(&db, DISPATCH_LEASE, &[other]).await;
    let takeover = died.elapsed();
    assert!(
        takeover <= TTL + TTL / 3 + Duration::from_millis(500),
        "the survivor took over after {takeover:?}, more than the TTL and one retry"
    );
    assert_eq!(cases_for(&app, &accepted).await, 9, "each delivered once");
    let pending = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(pending, 0, "nothing left in the outbox");
    eprintln!("dispatcher lease taken over {takeover:?} after its holder died (TTL {TTL:?})");
    db.close().await.unwrap();
    if let Some(replica) = replica {
        replica.stop().await;
    }
    app.stop().await;
}

async fn allegations_counted(client: &mut ReportingClient) -> i64 {
    client
        .query_statistics(rep::QueryStatisticsRequest {
            measure: rep::Measure::Allegations.into(),
            audience: rep::Audience::Internal.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .total
}

/// Waits until `client` counts `expected` allegations; fails if it counts more.
async fn counts(client: &mut ReportingClient, expected: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let counted = allegations_counted(client).await;
        assert!(
            counted <= expected,
            "{counted} allegations counted, {expected} exist"
        );
        if counted == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "reporting counts {counted} of {expected} allegations"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn one_projector_per_stream_counts_and_a_replica_takes_over_without_doubling(
    backend: Backend,
) {
    let Some(mut app) = with_short_leases(backend).await else {
        return;
    };
    let replica = app.start_replica(ServiceKind::Reporting).await;
    let db = Database::connect(app.settings.database_url(ServiceKind::Reporting))
        .await
        .unwrap();
    let lease = docket_reporting::projector_lease("intake");
    let first = holder_in(&app.lease_holders, &lease);
    let second = holder_in(&replica.lease_holders, &lease);
    let holder = held_by_one_of(&db, &lease, &[&first, &second]).await;

    let mut intake = app.intake().await;
    for _ in 0..4 {
        accept_new(&mut intake).await;
    }
    let mut from_first = app.reporting_as(Role::Analyst).await;
    let bearer = Bearer::token(&app.token(Role::Analyst, "analyst"));
    let mut from_second =
        ReportingServiceClient::with_interceptor(channel(replica.addr).await, bearer);
    counts(&mut from_first, 4).await;
    counts(&mut from_second, 4).await;
    stays_with(&db, &lease, &holder, TTL).await;

    let (mut survivor, replica) = if holder == first {
        app.kill_reporting().await;
        (from_second, Some(replica))
    } else {
        replica.kill().await;
        (from_first, None)
    };
    for _ in 0..4 {
        accept_new(&mut intake).await;
    }
    counts(&mut survivor, 8).await;
    // Long enough for a second follower, were there one, to apply the events again.
    tokio::time::sleep(TTL).await;
    assert_eq!(
        allegations_counted(&mut survivor).await,
        8,
        "no event counted twice"
    );
    db.close().await.unwrap();
    if let Some(replica) = replica {
        replica.stop().await;
    }
    app.stop().await;
}

/// The holder and incarnation in the row of `lease`, expired or not.
async fn lease_row(db: &DatabaseConnection, lease: &str) -> (String, String) {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
                "SELECT holder, incarnation FROM leases WHERE name = $1"
            } else {
                "SELECT holder, incarnation FROM leases WHERE name = ?"
            },
            [lease.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
    )
}

/// Waits until a new incarnation of `holder` has `lease` (the row left at `before` replaced);
/// returns how long that took.
async fn taken_back(
    db: &DatabaseConnection,
    lease: &str,
    holder: &str,
    before: &(String, String),
) -> Duration {
    let started = tokio::time::Instant::now();
    loop {
        let row = lease_row(db, lease).await;
        if row != *before && current_holder(db, lease).await.unwrap().is_some() {
            assert_eq!(
                row.0, holder,
                "the restarted replica, not another, has {lease}"
            );
            return started.elapsed();
        }
        assert!(
            started.elapsed() < LONG_TTL,
            "the restarted replica waited out the TTL of {lease}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Long enough to tell a lease taken back at once from one waited out.
const LONG_TTL: Duration = Duration::from_secs(12);

async fn a_replica_restarted_after_a_crash_takes_its_own_leases_back_at_once(backend: Backend) {
    let Some(mut app) = TestApp::spawn_with(backend, |settings| {
        settings.leases.ttl_seconds = NonZeroU64::new(LONG_TTL.as_secs()).unwrap();
    })
    .await
    else {
        return;
    };
    let intake_db = Database::connect(app.settings.database_url(ServiceKind::Intake))
        .await
        .unwrap();
    let reporting_db = Database::connect(app.settings.database_url(ServiceKind::Reporting))
        .await
        .unwrap();
    let projector = docket_reporting::projector_lease("intake");
    let dispatcher = holder_in(&app.lease_holders, DISPATCH_LEASE);
    let follower = holder_in(&app.lease_holders, &projector);
    held_by_one_of(&intake_db, DISPATCH_LEASE, &[&dispatcher]).await;
    held_by_one_of(&reporting_db, &projector, &[&follower]).await;
    // A second live process on the same data gets an identity of its own, and waits.
    let replica = app.start_replica(ServiceKind::Intake).await;
    let other = holder_in(&replica.lease_holders, DISPATCH_LEASE);
    assert_ne!(
        other, dispatcher,
        "two live processes never share an identity"
    );

    // kill -9: nothing released; the same replica starts again at once.
    let before = lease_row(&intake_db, DISPATCH_LEASE).await;
    app.kill_intake().await;
    let restarted = app.start_intake().await;
    assert_eq!(
        holder_in(&restarted, DISPATCH_LEASE),
        dispatcher,
        "a replica restarted in place keeps its identity"
    );
    let dispatch_back = taken_back(&intake_db, DISPATCH_LEASE, &dispatcher, &before).await;

    let before = lease_row(&reporting_db, &projector).await;
    app.kill_reporting().await;
    app.start_reporting().await;
    let projector_back = taken_back(&reporting_db, &projector, &follower, &before).await;
    eprintln!(
        "leases taken back after a restart: dispatcher {dispatch_back:?}, projector \
         {projector_back:?} (TTL {LONG_TTL:?})"
    );
    for took in [dispatch_back, projector_back] {
        assert!(took < Duration::from_secs(3), "took {took:?}");
    }

    // It works, and the other identity still waits.
    let mut intake = app.intake().await;
    let accepted = accept_new(&mut intake).await;
    assert_eq!(cases_for(&app, &[accepted]).await, 1);
    assert_eq!(
        current_holder(&intake_db, DISPATCH_LEASE).await.unwrap(),
        Some(dispatcher)
    );
    intake_db.close().await.unwrap();
    reporting_db.close().await.unwrap();
    replica.stop().await;
    app.stop().await;
}
