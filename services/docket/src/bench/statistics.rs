//! `QueryStatistics` over many allegations with their cases: the items are generated here and
//! loaded into reporting's database in bulk (the projector would take hours over a million
//! events), then queried over gRPC beside the echo baseline.

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use docket_proto::docket::reporting::v1 as rep;
use docket_proto::docket::reporting::v1::reporting_service_client::ReportingServiceClient;
use docket_reporting::bulk::{AllegationItem, BulkLoad, CaseItem, ChargeRow, UNKNOWN, VictimRow};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::load::{self, Stats};
use super::workload::{Bearer, connect};

/// Items generated and stored per transaction.
const CHUNK: usize = 5_000;

const PARTIES: [&str; 3] = ["AM", "AZ", "XX"];
const CRIMES: [&str; 6] = [
    "icc.8.2.b.i",
    "icc.8.2.b.ii",
    "icc.8.2.b.iv",
    "icc.8.2.a.i",
    "icc.8.2.b.xxi",
    "icc.8.2.e.i",
];
const VIOLATIONS: [&str; 6] = [
    "VIOLATION_TYPE_KILLING",
    "VIOLATION_TYPE_ATTACK_ON_CIVILIANS",
    "VIOLATION_TYPE_ATTACK_ON_CIVILIAN_OBJECTS",
    "VIOLATION_TYPE_TORTURE",
    "VIOLATION_TYPE_DESECRATION_OF_BODIES",
    "VIOLATION_TYPE_ILL_TREATMENT",
];
const AGES: [&str; 4] = [
    "AGE_GROUP_CHILD",
    "AGE_GROUP_ADULT",
    "AGE_GROUP_ELDERLY",
    "AGE_GROUP_UNKNOWN",
];
const SEXES: [&str; 3] = ["SEX_FEMALE", "SEX_MALE", "SEX_UNKNOWN"];
const HARMS: [&str; 2] = ["HARM_KILLED", "HARM_INJURED"];

/// What the statistics step measured at one size.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatisticsRow {
    /// Allegations, each with its case, in reporting's projections.
    pub items: usize,
    /// Seconds the bulk load of this step took.
    pub load_seconds: f64,
    /// The echo baseline, one call at a time, just before.
    pub echo: Stats,
    /// `QueryStatistics` by two dimensions, one call at a time, from the rollups.
    pub grouped: Stats,
    /// `QueryStatistics` by two dimensions with a filter, which the rollups do not answer:
    /// counted from the fact tables (a few calls only).
    pub filtered: Stats,
    /// `grouped` p99 over echo p99.
    pub p99_ratio: f64,
    /// Seconds one `CreateRelease` over everything loaded took (tables, protection and audit,
    /// signing, storing), or why it failed.
    pub release: Result<f64, String>,
}

/// The i-th generated allegation and its case: spread over parties, crimes, weeks and places
/// the way a long conflict's docket would be, deterministic so runs compare.
pub(super) fn item(i: usize) -> (AllegationItem, CaseItem) {
    let pick = |values: &[&str], salt: usize| -> String {
        values[(i.wrapping_mul(2_654_435_761) >> 7).wrapping_add(salt) % values.len()].to_owned()
    };
    let mut parties = vec![pick(&PARTIES[..2], 0)];
    if i.is_multiple_of(11) {
        parties.push(PARTIES[2].to_owned());
    }
    parties.sort();
    let week = format!("{}-W{:02}", 2020 + (i / 7) % 3, 1 + (i / 3) % 52);
    let place = if i.is_multiple_of(17) {
        UNKNOWN.to_owned()
    } else {
        format!("place-{}", (i * 7) % 400)
    };
    let mut crimes = vec![pick(&CRIMES, 1)];
    if i.is_multiple_of(5) {
        crimes.push(pick(&CRIMES, 2));
    }
    crimes.sort();
    crimes.dedup();
    let mut violations = vec![pick(&VIOLATIONS, 3), pick(&VIOLATIONS, 4)];
    violations.sort();
    violations.dedup();
    let allegation = AllegationItem {
        id: format!("bench-a-{i}"),
        status: "ALLEGATION_STATUS_ACCEPTED".into(),
        received_time: chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(i as i64),
        week: week.clone(),
        place: place.clone(),
        violations,
        parties: parties.clone(),
    };
    let victims = (0..1 + i % 3)
        .map(|g| {
            let age_group = pick(&AGES, g + 5);
            VictimRow {
                count: 1 + ((i + g) % 4) as i64,
                status: "VICTIM_STATUS_CIVILIAN".into(),
                harm: pick(&HARMS, g),
                age_band: age_group.clone(),
                age_group,
                sex: pick(&SEXES, g + 6),
                party: pick(&PARTIES, g + 7),
            }
        })
        .collect();
    let charges = if i.is_multiple_of(10) {
        vec![ChargeRow {
            charge_id: format!("bench-g-{i}"),
            person_id: format!("bench-p-{}", i % 1_000),
            crime: crimes[0].clone(),
            in_absentia: i.is_multiple_of(20).to_string(),
            status: "CHARGE_STATUS_FILED".into(),
        }]
    } else {
        Vec::new()
    };
    let case = CaseItem {
        id: format!("bench-c-{i}"),
        reference: Some(format!("CASE-{}-{:06}", 2020 + i % 3, i % 1_000_000)),
        opened_time: Some(allegation.received_time),
        status: if i.is_multiple_of(4) {
            "CASE_STATUS_CLOSED"
        } else {
            "CASE_STATUS_OPEN"
        }
        .into(),
        week,
        place,
        coordinates: None,
        parties,
        crimes,
        victims,
        reported: Vec::new(),
        named: Vec::new(),
        charges,
        close_reason: None,
        only_fabricated_evidence: false,
    };
    (allegation, case)
}

/// Loads items `from..to` into reporting's database, showing progress on stderr.
pub async fn load(db: sea_orm::DatabaseConnection, from: usize, to: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut bulk = BulkLoad::new(db);
    let mut next = from;
    while next < to {
        let end = (next + CHUNK).min(to);
        let (allegations, cases): (Vec<_>, Vec<_>) = (next..end).map(item).unzip();
        bulk.add(&allegations, &cases).await?;
        next = end;
        eprint!(
            "\r  loading {next}/{to} allegations with cases ({:.0}%)   ",
            next as f64 / to as f64 * 100.0
        );
        let _ = std::io::stderr().flush();
    }
    eprint!("\r  adding the loaded items to the rollups…                      ");
    bulk.finish().await?;
    eprintln!("\r  loaded {to} allegations with cases                          ");
    Ok(started.elapsed().as_secs_f64())
}

pub type Reporting = ReportingServiceClient<InterceptedService<Channel, Bearer>>;

/// Waits until reporting has applied every event its streams have told it of, so that a step
/// does not share the machine with the projection of the step before. Gives up (with a note)
/// after `limit`.
pub async fn settle(client: &Reporting, limit: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut caught_up_once = false;
    loop {
        let status = client
            .clone()
            .get_projection_status(rep::GetProjectionStatusRequest::default())
            .await?
            .into_inner();
        let lag: i64 = status.streams.iter().map(|s| s.lag_events).sum();
        let connected = status.streams.iter().all(|s| s.connected);
        if connected && lag == 0 {
            // Twice in a row: the head a projector knows is only as fresh as its last event.
            if caught_up_once {
                break;
            }
            caught_up_once = true;
        } else {
            caught_up_once = false;
        }
        if started.elapsed() > limit {
            eprintln!("  reporting still {lag} events behind after {limit:?}; going on");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if started.elapsed() > Duration::from_secs(1) {
        eprintln!(
            "  waited {:.1} s for reporting to apply the events of the last step",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Connects to reporting as `token`'s bearer.
pub async fn client(addr: SocketAddr, bearer: Bearer) -> anyhow::Result<Reporting> {
    Ok(ReportingServiceClient::with_interceptor(
        connect(addr).await?,
        bearer,
    ))
}

/// Creates one release over everything loaded; the seconds it took.
pub async fn release(supervisor: &Reporting, items: usize) -> Result<f64, String> {
    let started = Instant::now();
    supervisor
        .clone()
        .create_release(rep::CreateReleaseRequest {
            title: format!("Benchmark at {items} cases"),
        })
        .await
        .map_err(|status| format!("{:?}: {}", status.code(), status.message()))?;
    Ok(started.elapsed().as_secs_f64())
}

/// The two-dimensional questions asked in turn.
fn question(n: usize, filtered: bool) -> rep::QueryStatisticsRequest {
    use rep::{Dimension as D, Measure as M};
    let (measure, group_by) = match n % 4 {
        0 => (M::Cases, [D::Party, D::CrimeType]),
        1 => (M::Victims, [D::AgeGroup, D::Sex]),
        2 => (M::Charges, [D::Party, D::InAbsentia]),
        _ => (M::Allegations, [D::Party, D::ViolationType]),
    };
    let filters = if filtered {
        vec![rep::Filter {
            dimension: D::Party.into(),
            values: vec!["AM".into(), "AZ".into()],
        }]
    } else {
        Vec::new()
    };
    rep::QueryStatisticsRequest {
        measure: measure.into(),
        group_by: group_by.iter().map(|d| (*d).into()).collect(),
        filters,
        audience: rep::Audience::Internal.into(),
        include_uncounted: false,
    }
}

/// Asks [`question`]s one at a time for `duration` (or `calls` times, if fewer fit).
pub async fn query(client: &Reporting, duration: Duration, filtered: bool) -> Stats {
    let client = client.clone();
    load::run(1, duration, move |_, n| {
        let mut client = client.clone();
        async move {
            client
                .query_statistics(question(n, filtered))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    })
    .await
}
