//! The figures of a run, each beside its limit.

use super::cases::CasesRow;
use super::load::Stats;
use super::register::RegisterRow;
use super::release::ReleaseRow;
use super::search::Searches;
use super::similar::Lookups;
use super::statistics::StatisticsRow;
use super::workload::Uploads;

#[derive(Debug, serde::Serialize)]
pub struct SubmissionRow {
    pub concurrency: usize,
    pub echo: Stats,
    pub submit: Stats,
    /// The naive service: one `INSERT` per call into the same database.
    pub naive: Stats,
    /// Submissions per second as a fraction of echoes per second.
    pub ratio: f64,
    /// Submissions per second as a fraction of the naive service's.
    pub of_naive: f64,
}

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub database: &'static str,
    pub cores: usize,
    pub submissions: Vec<SubmissionRow>,
    pub uploads: Option<Uploads>,
    pub statistics: Vec<StatisticsRow>,
    /// `CreateRelease` at the sizes of `--release-at`.
    pub releases: Vec<ReleaseRow>,
    /// `ListCases` filtered by party among many cases.
    pub cases: Option<CasesRow>,
    /// Candidates for a new person in the casualty register.
    pub register: Option<RegisterRow>,
    /// Near-duplicate lookups among many stored items.
    pub similar: Option<Lookups>,
    /// Full-text search and similar allegations among many allegations.
    pub search: Option<Searches>,
    /// Indexing rate as a share of the best submission rate measured in this run.
    pub index_to_submit_ratio: Option<f64>,
    /// Peak resident memory of the services' process over the whole run, in MB.
    pub peak_memory_mb: Option<f64>,
    /// Peak resident memory of the benchmark's own process (baseline server, load generator,
    /// the uploaded file, the bulk loader), in MB.
    pub bench_peak_memory_mb: Option<f64>,
}

impl Report {
    pub fn new(postgres: bool) -> Self {
        Self {
            database: if postgres {
                "PostgreSQL (intake)"
            } else {
                "SQLite"
            },
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            submissions: Vec::new(),
            uploads: None,
            statistics: Vec::new(),
            releases: Vec::new(),
            cases: None,
            register: None,
            similar: None,
            search: None,
            index_to_submit_ratio: None,
            peak_memory_mb: None,
            bench_peak_memory_mb: None,
        }
    }

    pub fn submissions(&mut self, concurrency: usize, echo: Stats, submit: Stats, naive: Stats) {
        let share = |of: f64| {
            if of > 0.0 {
                submit.per_second / of
            } else {
                0.0
            }
        };
        self.submissions.push(SubmissionRow {
            concurrency,
            echo,
            submit,
            naive,
            ratio: share(echo.per_second),
            of_naive: share(naive.per_second),
        });
    }

    pub fn statistics(
        &mut self,
        items: usize,
        load_seconds: f64,
        echo: Stats,
        grouped: Stats,
        filtered: Stats,
        release: Result<f64, String>,
    ) {
        let p99_ratio = if echo.p99_ms > 0.0 {
            grouped.p99_ms / echo.p99_ms
        } else {
            0.0
        };
        self.statistics.push(StatisticsRow {
            items,
            load_seconds,
            echo,
            grouped,
            filtered,
            p99_ratio,
            release,
        });
    }

    pub fn similar(&mut self, lookups: Lookups) {
        self.similar = Some(lookups);
    }

    /// Records the search step, and how the indexing rate compares with the best submission
    /// rate of this run (when submissions were measured).
    pub fn search(&mut self, searches: Searches) {
        let best = self
            .submissions
            .iter()
            .map(|row| row.submit.per_second)
            .fold(0.0, f64::max);
        self.index_to_submit_ratio = (best > 0.0).then(|| searches.indexed_per_second / best);
        self.search = Some(searches);
    }

    pub fn uploads(&mut self, uploads: Uploads) {
        self.uploads = Some(uploads);
    }

    /// Records the services' peak memory, and reads this process's own (Linux).
    pub fn peak_memory(&mut self, services: Option<f64>) {
        self.peak_memory_mb = services;
        self.bench_peak_memory_mb =
            super::services::peak_memory_mb(std::path::Path::new("/proc/self/status"));
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "docket bench — {} on {} cores\n\n",
            self.database, self.cores
        );
        if !self.submissions.is_empty() {
            out.push_str("conc | echo/s  | echo p50/p99 ms | submit/s | submit p50/p99 ms | submit/echo | naive/s | naive p50/p99 ms | submit/naive | p50 submit/naive | errors\n");
        }
        for row in &self.submissions {
            out.push_str(&format!(
                "{:>4} | {:>7.0} | {:>6.2} / {:<6.2} | {:>8.0} | {:>7.2} / {:<7.2} | {:>10.1}% | {:>7.0} | {:>7.2} / {:<7.2} | {:>11.1}% | {:>15.2}x | {}\n",
                row.concurrency,
                row.echo.per_second,
                row.echo.p50_ms,
                row.echo.p99_ms,
                row.submit.per_second,
                row.submit.p50_ms,
                row.submit.p99_ms,
                row.ratio * 100.0,
                row.naive.per_second,
                row.naive.p50_ms,
                row.naive.p99_ms,
                row.of_naive * 100.0,
                if row.naive.p50_ms > 0.0 {
                    row.submit.p50_ms / row.naive.p50_ms
                } else {
                    0.0
                },
                row.echo.errors + row.submit.errors + row.naive.errors,
            ));
        }
        if !self.submissions.is_empty() {
            out.push_str("(targets: submit/echo >= 25% at c=64 on SQLite; on PostgreSQL submit/naive >= 100% at c=64 and p50 within 2x of the naive service at c=1)\n");
        }
        if let Some(u) = self.uploads {
            out.push_str(&format!(
                "\nupload MB/s: raw SHA-256 {:.0} | bare hashing upload {:.0} | durable write to the data directory {:.0} | UploadEvidence {:.0} ({:.0}% of bare, target 60%; {:.0}% of the slower of bare and the durable write)\n",
                u.raw_sha256_mb_s,
                u.bare_hashing_upload_mb_s,
                u.durable_write_mb_s,
                u.evidence_upload_mb_s,
                u.evidence_upload_mb_s / u.bare_hashing_upload_mb_s * 100.0,
                u.evidence_upload_mb_s / u.bare_hashing_upload_mb_s.min(u.durable_write_mb_s)
                    * 100.0
            ));
        }
        if !self.statistics.is_empty() {
            out.push_str("\nQueryStatistics by two dimensions, one call at a time (ms):\n");
            out.push_str("    items | echo p50/p99   | grouped p50/p99 | p99/echo p99 | filtered p50/p99 | load s | errors\n");
            for row in &self.statistics {
                out.push_str(&format!(
                    "{:>9} | {:>5.2} / {:<6.2} | {:>6.2} / {:<6.2} | {:>11.1}x | {:>7.1} / {:<7.1} | {:>6.0} | {}\n",
                    row.items,
                    row.echo.p50_ms,
                    row.echo.p99_ms,
                    row.grouped.p50_ms,
                    row.grouped.p99_ms,
                    row.p99_ratio,
                    row.filtered.p50_ms,
                    row.filtered.p99_ms,
                    row.load_seconds,
                    row.echo.errors + row.grouped.errors + row.filtered.errors,
                ));
            }
            out.push_str("(grouped: unfiltered, answered from the rollups; filtered: one filter, counted from the fact tables)\n");
            out.push_str("\nCreateRelease over everything loaded (default catalogue, audit included; target < 60 s at 10^6):\n");
            for row in &self.statistics {
                match &row.release {
                    Ok(seconds) => out.push_str(&format!("{:>9} | {seconds:>6.1} s\n", row.items)),
                    Err(error) => out.push_str(&format!("{:>9} | failed: {error}\n", row.items)),
                }
            }
        }
        if !self.releases.is_empty() {
            out.push_str("\nCreateRelease at N cases (default catalogue; reading, tables, protection, LP audit, signing, storing; target < 60 s at 10^6):\n");
            for row in &self.releases {
                let figure = match &row.release {
                    Ok(seconds) if row.cases >= 1_000_000 => format!(
                        "{seconds:>6.1} s ({})",
                        if *seconds < 60.0 {
                            "meets the target"
                        } else {
                            "MISSES the target"
                        }
                    ),
                    Ok(seconds) => format!("{seconds:>6.1} s"),
                    Err(error) => format!("failed: {error}"),
                };
                out.push_str(&format!(
                    "{:>9} cases | {figure} | cases stored in {:.0} s\n",
                    row.cases, row.load_seconds
                ));
            }
        }
        if let Some(c) = &self.cases {
            out.push_str(&format!(
                "\nListCases by party among {} cases (first pages of 50; target p99 < 20 ms): p50/p99 {:.2} / {:.2} ms ({:.2}x the target; echo p99 {:.2} ms) | errors {} | cases stored in {:.0} s\n",
                c.cases,
                c.by_party.p50_ms,
                c.by_party.p99_ms,
                c.by_party.p99_ms / 20.0,
                c.echo.p99_ms,
                c.by_party.errors,
                c.load_seconds,
            ));
        }
        if let Some(r) = self.register {
            out.push_str(&format!(
                "\ncasualty register: candidates for a new person among {} named victims: p50 {:.3} ms, p99 {:.3} ms (target < 50 ms), {:.1} found on average; index built in {:.1} s\n",
                r.registered,
                r.candidates.p50_ms,
                r.candidates.p99_ms,
                r.mean_found,
                r.build_seconds,
            ));
        }
        if let Some(l) = self.similar {
            out.push_str(&format!(
                "\nFindSimilarEvidence index among {} items ({} hashes, built in {:.1} s; target p99 < 20 ms):\n\
                 picture p50/p99 {:.3} / {:.3} ms | video (25 frames) p50/p99 {:.3} / {:.3} ms | misses {}\n",
                l.items,
                l.hashes,
                l.build_seconds,
                l.picture_p50_ms,
                l.picture_p99_ms,
                l.video_p50_ms,
                l.video_p99_ms,
                l.misses,
            ));
        }
        if let Some(s) = self.search {
            out.push_str(&format!(
                "\nSearchAllegations' index among {} allegations (target p99 < 50 ms at 10^6):\n\
                 indexed {:.0}/s{} | search p50/p99 {:.2} / {:.2} ms ({:.2}x the target; p99 of words alone {:.2}, with a party {:.2}, a period {:.2}, a circle {:.2}) | similar allegations p50/p99 {:.2} / {:.2} ms | empty answers {}\n",
                s.items,
                s.indexed_per_second,
                match self.index_to_submit_ratio {
                    Some(r) => format!(" ({:.1}x the best submission rate: must be >= 1)", r),
                    None => String::new(),
                },
                s.search_p50_ms,
                s.search_p99_ms,
                s.search_p99_ms / 50.0,
                s.search_p99_by_kind_ms[0],
                s.search_p99_by_kind_ms[1],
                s.search_p99_by_kind_ms[2],
                s.search_p99_by_kind_ms[3],
                s.similar_p50_ms,
                s.similar_p99_ms,
                s.empty_answers,
            ));
        }
        if let Some(mb) = self.peak_memory_mb {
            out.push_str(&format!(
                "peak memory of the services' process: {mb:.0} MB (target < 200 MB)\n"
            ));
        }
        if let Some(mb) = self.bench_peak_memory_mb {
            out.push_str(&format!(
                "peak memory of the benchmark's own process: {mb:.0} MB\n"
            ));
        }
        out
    }
}
