//! `CreateRelease` over many cases: the cases are generated as the statistics step generates
//! them and stored straight into reporting's fact tables (cases only: a release reads nothing
//! else, and the rollups, which it does not read, are left as they are), then one release is
//! created over gRPC and timed, its reading, tables, protection, LP audit, signing and storing
//! all included.

use std::io::Write;
use std::time::Instant;

use docket_reporting::bulk::BulkLoad;

use super::statistics::{self, Reporting};

/// Cases generated and stored per transaction.
const CHUNK: usize = 5_000;

/// What the release step measured at one size.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReleaseRow {
    /// Cases in reporting's projections.
    pub cases: usize,
    /// Seconds storing the cases of this step took (not part of the figure).
    pub load_seconds: f64,
    /// Seconds one `CreateRelease` over every case took, or why it failed.
    pub release: Result<f64, String>,
}

/// Stores generated cases `from..to` in reporting's fact tables, showing progress on stderr.
pub async fn load_cases(
    db: sea_orm::DatabaseConnection,
    from: usize,
    to: usize,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut bulk = BulkLoad::new(db);
    let mut next = from;
    while next < to {
        let end = (next + CHUNK).min(to);
        let cases: Vec<_> = (next..end).map(|i| statistics::item(i).1).collect();
        bulk.add(&[], &cases).await?;
        next = end;
        eprint!(
            "\r  storing {next}/{to} cases ({:.0}%)   ",
            next as f64 / to as f64 * 100.0
        );
        let _ = std::io::stderr().flush();
    }
    eprintln!("\r  stored {to} cases                              ");
    Ok(started.elapsed().as_secs_f64())
}

/// Brings the cases up to `cases` (from `loaded`) and times one release over them.
pub async fn measure(
    db: sea_orm::DatabaseConnection,
    supervisor: &Reporting,
    loaded: usize,
    cases: usize,
) -> anyhow::Result<ReleaseRow> {
    let load_seconds = if cases > loaded {
        load_cases(db, loaded, cases).await?
    } else {
        0.0
    };
    eprintln!("  CreateRelease at {cases} cases…");
    let release = statistics::release(supervisor, cases).await;
    Ok(ReleaseRow {
        cases,
        load_seconds,
        release,
    })
}
