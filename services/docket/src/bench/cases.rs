//! `ListCases` filtered by party among many cases: the cases are generated here and stored
//! straight into case management's tables (`docket_case_management::bulk`), then listed over
//! gRPC, a page of 50 at a time, one call at a time, beside the echo baseline.
//!
//! Parties are spread as a long conflict's docket would have them: half the cases allege one
//! side, half the other, one in eleven a third party too, one in ten thousand a fourth (a
//! hundred cases at 10^6, which a scan of the cases would have to read to the end to find).

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use docket_case_management::bulk::{self, BulkCase};
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::cases::v1::case_service_client::CaseServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

use super::load::{self, Stats};
use super::workload::{Bearer, connect};

/// Cases generated and stored per transaction.
const CHUNK: usize = 5_000;

/// The parties asked about in turn: the two sides, the third party, the rare one.
const ASKED: [&str; 4] = ["AM", "AZ", "XX", "RU"];

const CRIMES: [&str; 3] = ["icc.8.2.b.i", "icc.8.2.a.i", "icc.8.2.b.iv"];

/// What the step measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CasesRow {
    pub cases: usize,
    /// Seconds storing the cases took (not part of the figure).
    pub load_seconds: f64,
    /// The echo baseline, one call at a time, just before.
    pub echo: Stats,
    /// `ListCases` by party, first pages of 50, one call at a time.
    pub by_party: Stats,
}

pub type Cases = CaseServiceClient<InterceptedService<Channel, Bearer>>;

pub async fn client(addr: SocketAddr, bearer: Bearer) -> anyhow::Result<Cases> {
    Ok(CaseServiceClient::with_interceptor(
        connect(addr).await?,
        bearer,
    ))
}

/// The i-th generated case.
fn case(i: usize, opened_at: chrono::DateTime<chrono::Utc>) -> BulkCase {
    let mut parties = vec![if (i.wrapping_mul(2_654_435_761) >> 7).is_multiple_of(2) {
        "AM"
    } else {
        "AZ"
    }];
    if i.is_multiple_of(11) {
        parties.push("XX");
    }
    if i.is_multiple_of(10_000) {
        parties.push("RU");
    }
    BulkCase {
        id: Uuid::now_v7(),
        reference: format!("CASE-2019-{:07}", i + 1),
        title: format!("Benchmark case {i}"),
        opened_at,
        parties: parties.into_iter().map(str::to_owned).collect(),
        crime_types: vec![CRIMES[i % CRIMES.len()].to_owned()],
    }
}

/// Stores `cases` generated cases in case management's database, showing progress on stderr.
pub async fn load(db: &sea_orm::DatabaseConnection, cases: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let opened_at = chrono::Utc::now();
    let mut next = 0;
    while next < cases {
        let end = (next + CHUNK).min(cases);
        let chunk: Vec<_> = (next..end).map(|i| case(i, opened_at)).collect();
        bulk::insert(db, &chunk).await?;
        next = end;
        eprint!(
            "\r  storing {next}/{cases} cases ({:.0}%)   ",
            next as f64 / cases as f64 * 100.0
        );
        let _ = std::io::stderr().flush();
    }
    eprintln!("\r  stored {cases} cases                              ");
    Ok(started.elapsed().as_secs_f64())
}

/// Asks for the first page of each party of [`ASKED`] in turn, for `duration`.
pub async fn by_party(client: &Cases, duration: Duration) -> Stats {
    let client = client.clone();
    load::run(1, duration, move |_, n| {
        let mut client = client.clone();
        async move {
            let page = client
                .list_cases(pb::ListCasesRequest {
                    party_code: ASKED[n % ASKED.len()].into(),
                    page_size: 50,
                    ..Default::default()
                })
                .await
                .map_err(|e| e.to_string())?
                .into_inner();
            if page.cases.is_empty() {
                return Err("an empty page".into());
            }
            Ok(())
        }
    })
    .await
}
