//! `docket bench`: starts the services as `docket serve` in a child process on loopback (SQLite
//! in a temporary directory by default, intake or reporting on PostgreSQL with
//! `--database-url` / `--reporting-database-url`), and measures them beside a bare tonic
//! baseline in this process: submissions per second and latency at several concurrencies
//! against echo and against the naive service (one `INSERT` per call into intake's database), evidence upload throughput against raw SHA-256 and a bare hashing upload,
//! `QueryStatistics` over 10^5 and 10^6 allegations with cases against echo latency,
//! `ListCases` filtered by party among 10^6 cases,
//! near-duplicate lookups among 10^5 stored items (intake's index, in this process), the
//! casualty register's matching among 10^5 named victims, full-text search and similar
//! allegations among 10^6 allegations (intake's index, in this process, with its indexing rate
//! beside the submission rate), `CreateRelease` at up to 10^6 cases, and the services' peak
//! memory.
//! Prints a table, and JSON with `--json`.

mod baseline;
mod cases;
mod load;
mod register;
mod release;
mod report;
mod search;
mod services;
mod similar;
mod statistics;
mod workload;

use std::time::Duration;

use anyhow::Context;
use docket_platform::auth::{Role, TokenIssuer};
use docket_platform::{ServiceKind, Settings};

pub use report::Report;

/// What `docket bench` is asked to do.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Intake's database (a PostgreSQL URL); default: SQLite in a temporary directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Seconds each load step runs.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Size of the uploaded file, in MiB.
    #[arg(long, default_value_t = 256)]
    pub upload_mib: usize,
    /// Reporting's database (a PostgreSQL URL of an empty database); default: SQLite in a
    /// temporary directory.
    #[arg(long)]
    pub reporting_database_url: Option<String>,
    /// Allegations (each with its case) in reporting's projections at which `QueryStatistics`
    /// is measured, loaded in bulk one size after the other; `0` skips the step.
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
    pub statistics_at: Vec<usize>,
    /// Cases in reporting's projections at which one `CreateRelease` (audit included) is timed,
    /// one size after the other, after the statistics step (whose items count towards them);
    /// the cases are stored straight into the fact tables. `0` skips the step.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub release_at: Vec<usize>,
    /// Cases in case management among which `ListCases` filtered by party is timed, stored
    /// straight into its tables; `0` skips the step.
    #[arg(long, default_value_t = 1_000_000)]
    pub cases_at: usize,
    /// Named victims in the casualty register among which candidates for a new person are
    /// matched; `0` skips the step.
    #[arg(long, default_value_t = 100_000)]
    pub register_at: usize,
    /// Skip submissions and uploads (to measure statistics alone).
    #[arg(long)]
    pub statistics_only: bool,
    /// Stored items among which near-duplicate lookups (`FindSimilarEvidence`'s index) are
    /// timed; `0` skips the step.
    #[arg(long, default_value_t = 100_000)]
    pub similar_at: usize,
    /// Measure near-duplicate lookups alone, without starting the services.
    #[arg(long)]
    pub similar_only: bool,
    /// Allegations in the search index among which `SearchAllegations` and
    /// `ListSimilarAllegations` are timed (the index alone, in this process); `0` skips the step.
    #[arg(long, default_value_t = 1_000_000)]
    pub search_at: usize,
    /// Measure the search index alone, without starting the services.
    #[arg(long)]
    pub search_only: bool,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

const CONCURRENCIES: [usize; 3] = [1, 16, 64];

/// How long a step waits for reporting to catch up with the one before.
const SETTLE_LIMIT: Duration = Duration::from_secs(300);

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.similar_only {
        let mut report = Report::new(false);
        eprintln!("near-duplicate lookups among {} items…", args.similar_at);
        report.similar(similar::measure(args.similar_at.max(1)));
        println!("{}", report.table());
        return Ok(());
    }
    if args.search_only {
        let mut report = Report::new(false);
        eprintln!("search among {} allegations…", args.search_at);
        let items = args.search_at.max(1);
        report.search(tokio::task::spawn_blocking(move || search::measure(items)).await??);
        println!("{}", report.table());
        return Ok(());
    }
    let data = tempfile::tempdir()?;
    let mut settings = Settings::defaults()?;
    settings.data_dir = data.path().to_owned();
    for kind in ServiceKind::ALL {
        settings.set_listen(kind, "127.0.0.1:0".parse()?);
    }
    if let Some(url) = &args.database_url {
        settings.set_database_url(ServiceKind::Intake, url.clone());
    }
    if let Some(url) = &args.reporting_database_url {
        settings.set_database_url(ServiceKind::Reporting, url.clone());
    }
    settings.settle_ports()?;
    eprintln!("starting the services (docket serve, in a child process)…");
    let services = services::Services::start(&settings).await?;
    let intake_addr = settings.listen(ServiceKind::Intake);
    let reporting_addr = settings.listen(ServiceKind::Reporting);
    let intake_db = docket_platform::db::connect(
        &settings.database_url(ServiceKind::Intake),
        &settings.database,
    )
    .await
    .context("cannot open intake's database for the naive service")?;
    let baseline = baseline::start(intake_db.clone()).await?;
    let issuer = TokenIssuer::development(&settings)?;
    let token = issuer.mint("bench", Role::IntakeOfficer, Duration::from_secs(3_600))?;
    let workload = workload::Workload::connect(baseline, intake_addr, &token).await?;
    let analyst = issuer.mint("bench", Role::Analyst, Duration::from_secs(3_600))?;
    let reporting = statistics::client(reporting_addr, workload::Bearer::new(&analyst)?).await?;
    let supervisor = issuer.mint("bench", Role::Supervisor, Duration::from_secs(3_600))?;
    let supervisor =
        statistics::client(reporting_addr, workload::Bearer::new(&supervisor)?).await?;

    let step = Duration::from_secs(args.seconds);
    let mut report = Report::new(args.database_url.is_some());
    if !args.statistics_only {
        submissions_and_uploads(&workload, &reporting, &args, data.path(), &mut report).await?;
    }
    let sizes: Vec<usize> = args
        .statistics_at
        .iter()
        .copied()
        .filter(|n| *n > 0)
        .collect();
    let db = docket_platform::db::connect(
        &settings.database_url(ServiceKind::Reporting),
        &settings.database,
    )
    .await
    .context("cannot open reporting's database")?;
    let mut loaded = 0;
    if !sizes.is_empty() {
        let client = reporting;
        for size in sizes {
            if size <= loaded {
                continue;
            }
            eprintln!("QueryStatistics at {size} allegations with cases…");
            let load_seconds = statistics::load(db.clone(), loaded, size).await?;
            loaded = size;
            let echo = workload.echo(1, step).await;
            let grouped = statistics::query(&client, step, false).await;
            // Counting from the fact tables is slow at this size: a few calls are enough.
            let filtered = statistics::query(&client, step / 5, true).await;
            eprintln!("  CreateRelease at {size}…");
            let release = statistics::release(&supervisor, size).await;
            report.statistics(size, load_seconds, echo, grouped, filtered, release);
        }
    }
    for cases in args.release_at.iter().copied().filter(|n| *n > 0) {
        eprintln!("CreateRelease at {cases} cases…");
        let row = release::measure(db.clone(), &supervisor, loaded, cases).await?;
        loaded = loaded.max(cases);
        report.releases.push(row);
    }
    if args.cases_at > 0 {
        eprintln!("ListCases by party among {} cases…", args.cases_at);
        let db = docket_platform::db::connect(
            &settings.database_url(ServiceKind::CaseManagement),
            &settings.database,
        )
        .await
        .context("cannot open case management's database")?;
        let load_seconds = cases::load(&db, args.cases_at).await?;
        db.close().await?;
        let client = cases::client(
            settings.listen(ServiceKind::CaseManagement),
            workload::Bearer::new(&analyst)?,
        )
        .await?;
        let echo = workload.echo(1, step).await;
        let by_party = cases::by_party(&client, step).await;
        report.cases = Some(cases::CasesRow {
            cases: args.cases_at,
            load_seconds,
            echo,
            by_party,
        });
    }
    if args.register_at > 0 {
        eprintln!(
            "ListCasualtyCandidates' matching among {} named victims…",
            args.register_at
        );
        let registered = args.register_at;
        report.register =
            Some(tokio::task::spawn_blocking(move || register::measure(registered, 2_000)).await?);
    }
    if args.similar_at > 0 {
        eprintln!("near-duplicate lookups among {} items…", args.similar_at);
        report.similar(similar::measure(args.similar_at));
    }
    if args.search_at > 0 {
        eprintln!("search among {} allegations…", args.search_at);
        let items = args.search_at;
        report.search(tokio::task::spawn_blocking(move || search::measure(items)).await??);
    }
    report.peak_memory(services.peak_memory_mb());
    drop(services);
    baseline::drop_naive(&intake_db).await?;

    println!("{}", report.table());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Each step starts once reporting has projected the submissions of the step before: the
/// projection runs beside the step that made them, and what it has left is finished before the
/// next step rather than counted against it (the upload, say).
async fn submissions_and_uploads(
    workload: &workload::Workload,
    reporting: &statistics::Reporting,
    args: &BenchArgs,
    data_dir: &std::path::Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let step = Duration::from_secs(args.seconds);
    for concurrency in CONCURRENCIES {
        statistics::settle(reporting, SETTLE_LIMIT).await?;
        eprintln!("echo, SubmitAllegation and the naive service at concurrency {concurrency}…");
        let echo = workload.echo(concurrency, step).await;
        let submit = workload.submit(concurrency, step).await;
        statistics::settle(reporting, SETTLE_LIMIT).await?;
        let naive = workload.naive(concurrency, step).await;
        report.submissions(concurrency, echo, submit, naive);
    }
    statistics::settle(reporting, SETTLE_LIMIT).await?;
    eprintln!("uploads of {} MiB…", args.upload_mib);
    let uploads = workload
        .uploads(args.upload_mib, data_dir)
        .await
        .context("the upload benchmark failed")?;
    report.uploads(uploads);
    Ok(())
}
