//! `docket backup` and `docket restore`, the real binary, against the three services under load
//! (in-process, over a temporary data directory): a backup mid-load, more writing, an
//! incremental backup, the data directory wiped, the latest snapshot restored; then everything
//! acknowledged before that backup is there, once, and checks. A snapshot with a byte changed or
//! an evidence file missing is refused, by name. The keys, exported apart
//! and imported after the restore, open the sealed identities again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use docket_e2e::{
    Backend, TestApp, accept, allegation, cases_of, caught_up_together, statistics_without_time,
    submit,
};
use docket_platform::auth::Role;
use docket_platform::{ServiceKind, Settings};
use docket_proto::docket::audit::v1 as audit;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::reporting::v1 as rep;

const WORKERS: usize = 4;

/// What the load had answered, and when.
#[derive(Debug, Clone)]
struct Acknowledged {
    at: Instant,
    allegation_id: String,
    accepted: bool,
}

/// `docket ARGS` over the deployment `settings` describe: its data directory and databases.
fn command(settings: &Settings, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docket"));
    command
        .args(args)
        .env("DOCKET__DATA_DIR", &settings.data_dir)
        .env("RUST_LOG", "warn");
    for (kind, variable) in [
        (ServiceKind::Intake, "DOCKET__INTAKE__DATABASE_URL"),
        (
            ServiceKind::CaseManagement,
            "DOCKET__CASE_MANAGEMENT__DATABASE_URL",
        ),
        (ServiceKind::Reporting, "DOCKET__REPORTING__DATABASE_URL"),
    ] {
        command.env(variable, settings.database_url(kind));
    }
    command
}

fn docket(settings: &Settings, args: &[&str]) -> Output {
    command(settings, args).output().unwrap()
}

async fn docket_async(settings: &Settings, args: &[&str]) -> Output {
    let settings = settings.clone();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        docket(&settings, &args)
    })
    .await
    .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn upload(app: &TestApp, allegation_id: &str, content: Vec<u8>) -> String {
    use docket_proto::docket::intake::v1::upload_evidence_request::Payload;
    let metadata = pb::EvidenceMetadata {
        allegation_id: allegation_id.to_owned(),
        file_name: "video.mp4".into(),
        collected_time: Some(prost_types::Timestamp {
            seconds: 1_603_000_000,
            nanos: 0,
        }),
        collected_by: "analyst.petrosyan".into(),
        collection_method: pb::CollectionMethod::PlatformDownload.into(),
        ..Default::default()
    };
    let messages = [
        pb::UploadEvidenceRequest {
            payload: Some(Payload::Metadata(metadata)),
        },
        pb::UploadEvidenceRequest {
            payload: Some(Payload::Chunk(content.into())),
        },
    ];
    app.intake()
        .await
        .upload_evidence(tokio_stream::iter(messages))
        .await
        .expect("an upload")
        .into_inner()
        .evidence
        .expect("evidence")
        .id
}

/// Submits, accepts every other allegation, uploads evidence for every third and moves every
/// fourth accepted one's case on, until `stop`.
async fn work(app: Arc<TestApp>, worker: usize, stop: Arc<AtomicBool>) -> Vec<Acknowledged> {
    let mut intake = app.intake().await;
    let mut case_client = app.cases().await;
    let mut done = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let id = submit(&mut intake, allegation()).await;
        let accepted = i % 2 == 0;
        if accepted {
            accept(&mut intake, &id).await;
        }
        if i % 3 == 0 {
            upload(
                &app,
                &id,
                format!("evidence {worker} {i} ").repeat(200).into_bytes(),
            )
            .await;
        }
        done.push(Acknowledged {
            at: Instant::now(),
            allegation_id: id.clone(),
            accepted,
        });
        if accepted && i % 4 == 0 {
            let [case] = cases_of(&mut case_client, &id).await.try_into().unwrap();
            case_client
                .transition_case(cases::TransitionCaseRequest {
                    case_id: case.id,
                    etag: case.etag,
                    target_status: cases::CaseStatus::UnderInvestigation.into(),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
    }
    done
}

async fn verify_chain(
    app: &TestApp,
    addr: std::net::SocketAddr,
) -> audit::VerifyAuditChainResponse {
    app.audit_as(addr, Role::Auditor)
        .await
        .verify_audit_chain(audit::VerifyAuditChainRequest {})
        .await
        .unwrap()
        .into_inner()
}

/// `docket keys export` into memory (standing for an encryption tool's pipe).
fn export_keys(settings: &Settings) -> Vec<u8> {
    let exported = docket(settings, &["keys", "export"]);
    assert!(exported.status.success(), "{}", text(&exported));
    exported.stdout
}

/// `docket keys import` from `keys` on standard input.
fn import_keys(settings: &Settings, keys: &[u8]) {
    use std::io::Write;
    let mut child = command(settings, &["keys", "import"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(keys).unwrap();
    let imported = child.wait_with_output().unwrap();
    assert!(imported.status.success(), "{}", text(&imported));
}

fn wipe(data: &Path) {
    for entry in std::fs::read_dir(data).unwrap() {
        let path = entry.unwrap().path();
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        // A `-wal` or `-shm` file can go by itself as the last connection closes.
        if let Err(error) = removed {
            assert_eq!(
                error.kind(),
                std::io::ErrorKind::NotFound,
                "{}",
                path.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_load_restores_everything_acknowledged_before_it_on_sqlite() {
    backup_under_load_then_restore(Backend::Sqlite).await;
}

/// PostgreSQL the native way: `pg_dump` of each database (reporting, intake, case management,
/// in that order) then `docket backup` for the evidence files; `pg_restore` and `docket
/// restore`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_load_restores_everything_acknowledged_before_it_on_postgres() {
    if Backend::postgres_configured() {
        backup_under_load_then_restore(Backend::Postgres).await;
    } else {
        eprintln!("DOCKET_TEST_DATABASE_URL is not set: PostgreSQL not tested");
    }
}

const DUMP_ORDER: [ServiceKind; 3] = [
    ServiceKind::Reporting,
    ServiceKind::Intake,
    ServiceKind::CaseManagement,
];

/// Takes backup number `n`: on PostgreSQL the dumps first, into `dumps`.
async fn take_backup(
    backend: Backend,
    settings: &Settings,
    repo: &str,
    dumps: &Path,
    n: usize,
) -> Output {
    if backend == Backend::Postgres {
        for kind in DUMP_ORDER {
            let file = dumps.join(format!("{n}-{}.dump", kind.name()));
            let dumped = Command::new("pg_dump")
                .args(["-Fc", "-f"])
                .arg(&file)
                .arg(settings.database_url(kind))
                .output()
                .unwrap();
            assert!(dumped.status.success(), "{}", text(&dumped));
        }
    }
    let mut args = vec!["backup".to_owned(), "--out".to_owned(), repo.to_owned()];
    if backend == Backend::Postgres {
        for kind in DUMP_ORDER {
            let file = dumps.join(format!("{n}-{}.dump", kind.name()));
            args.extend(["--add".to_owned(), file.to_str().unwrap().to_owned()]);
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let taken = docket_async(settings, &args).await;
    assert!(taken.status.success(), "{}", text(&taken));
    if backend == Backend::Postgres {
        assert!(
            text(&taken).contains("not covered: the intake database is not SQLite"),
            "{}",
            text(&taken)
        );
    }
    taken
}

/// On PostgreSQL: each database dropped, created empty and restored from dump `n`, as the
/// latest snapshot in `repository` holds it (checked by `docket restore` against the manifest).
fn restore_dumps(settings: &Settings, repository: &Path, n: usize) {
    let mut snapshots: Vec<_> = std::fs::read_dir(repository.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    snapshots.sort();
    let dumps = snapshots.pop().unwrap().join("added");
    let admin = std::env::var(docket_e2e::POSTGRES_VARIABLE).unwrap();
    for kind in DUMP_ORDER {
        let url = settings.database_url(kind);
        let name = url.rsplit('/').next().unwrap().split('?').next().unwrap();
        for sql in [
            format!("DROP DATABASE {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            let done = Command::new("psql")
                .args([admin.as_str(), "-v", "ON_ERROR_STOP=1", "-c", &sql])
                .output()
                .unwrap();
            assert!(done.status.success(), "{}", text(&done));
        }
        let file = dumps.join(format!("{n}-{}.dump", kind.name()));
        let restored = Command::new("pg_restore")
            .args(["--no-owner", "-d", url.as_str()])
            .arg(&file)
            .output()
            .unwrap();
        assert!(restored.status.success(), "{}", text(&restored));
    }
}

async fn backup_under_load_then_restore(backend: Backend) {
    let app = Arc::new(TestApp::spawn(backend).await.unwrap());
    let data = app.settings.data_dir.clone();
    let repository = tempfile::tempdir().unwrap();
    let repo = repository.path().to_str().unwrap().to_owned();
    let dumps = tempfile::tempdir().unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| tokio::spawn(work(app.clone(), worker, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    take_backup(backend, &app.settings, &repo, dumps.path(), 1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let second_started = Instant::now();
    let second = take_backup(backend, &app.settings, &repo, dumps.path(), 2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for worker in workers {
        acknowledged.extend(worker.await.unwrap());
    }
    let before: Vec<Acknowledged> = acknowledged
        .into_iter()
        .filter(|a| a.at < second_started)
        .collect();
    assert!(
        before.len() > 2 * WORKERS,
        "only {} acknowledged",
        before.len()
    );
    // The second backup copied only the evidence files the first did not.
    let second_text = text(&second);
    let held = second_text
        .lines()
        .find_map(|line| line.strip_prefix("evidence files: "))
        .and_then(|rest| rest.split(", ").nth(1))
        .and_then(|held| held.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("{second_text}"));
    assert!(held > 0, "{second_text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for entry in walk(repository.path()) {
            let mode = std::fs::metadata(&entry).unwrap().permissions().mode() & 0o777;
            let expected = if entry.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode, expected, "{}", entry.display());
        }
    }

    // The disk dies; the keys were kept apart.
    let app = Arc::into_inner(app).unwrap();
    let settings = app.settings.clone();
    let databases = app.stop().await;
    let keys = export_keys(&settings);
    wipe(&data);
    let restored = docket(&settings, &["restore", "--from", &repo]);
    assert!(restored.status.success(), "{}", text(&restored));
    if backend == Backend::Postgres {
        restore_dumps(&settings, repository.path(), 2);
    }
    import_keys(&settings, &keys);
    let again = docket(&settings, &["restore", "--from", &repo]);
    assert!(!again.status.success(), "a restore over data is refused");
    let mut app = TestApp::start_on(databases, settings).await;

    let mut intake = app.intake().await;
    let mut case_client = app.cases().await;
    // Sealed identities open again with the imported keys.
    let first = intake
        .get_allegation(pb::GetAllegationRequest {
            id: before[0].allegation_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let source = first.allegation.unwrap().source.unwrap();
    assert_eq!(source.name, allegation().source.unwrap().name);
    for ack in &before {
        intake
            .get_allegation(pb::GetAllegationRequest {
                id: ack.allegation_id.clone(),
            })
            .await
            .unwrap_or_else(|s| panic!("{} lost: {s:?}", ack.allegation_id));
        if ack.accepted {
            let found = cases_of(&mut case_client, &ack.allegation_id).await;
            assert_eq!(found.len(), 1, "cases of {}", ack.allegation_id);
        }
    }

    let mut verification = app
        .intake_as(Role::Supervisor)
        .await
        .verify_evidence(pb::VerifyEvidenceRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut last = None;
    while let Some(message) = verification.message().await.unwrap() {
        last = Some(message);
    }
    let last = last.expect("files were verified");
    assert!(last.files_checked > 0 && last.files_checked == last.files_total);
    assert_eq!(last.mismatches_found, 0, "{last:?}");

    for addr in [
        app.intake_addr,
        app.case_management_addr,
        app.reporting_addr,
    ] {
        let chain = verify_chain(&app, addr).await;
        assert!(chain.intact, "{addr}: {chain:?}");
    }
    // The chains go on from where the backup left them.
    submit(&mut intake, allegation()).await;
    let chain = verify_chain(&app, app.intake_addr).await;
    assert!(chain.intact, "{chain:?}");

    let rebuilt = app.start_another_reporting("reporting_rebuilt").await;
    let mut resumed = app.reporting_as(Role::Analyst).await;
    let mut scratch = app.reporting_at(rebuilt.addr, Role::Analyst).await;
    caught_up_together(&mut resumed, &mut scratch, Duration::from_secs(60)).await;
    for measure in [
        rep::Measure::Allegations,
        rep::Measure::Cases,
        rep::Measure::Victims,
    ] {
        for group_by in [
            vec![],
            vec![rep::Dimension::Party],
            vec![rep::Dimension::CaseStatus],
            vec![rep::Dimension::AllegationStatus],
        ] {
            let a =
                statistics_without_time(&mut resumed, measure, &group_by, rep::Audience::Internal)
                    .await;
            let b =
                statistics_without_time(&mut scratch, measure, &group_by, rep::Audience::Internal)
                    .await;
            assert_eq!(a, b, "{measure:?} by {group_by:?}");
        }
    }
    rebuilt.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_with_a_byte_changed_or_a_file_missing_is_refused_by_name() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let data = app.settings.data_dir.clone();
    app.stored_evidence(b"the only copy of a video").await;
    let repository = tempfile::tempdir().unwrap();
    let repo = repository.path().to_str().unwrap().to_owned();
    let settings = app.settings.clone();
    let taken = docket(&settings, &["backup", "--out", &repo]);
    assert!(taken.status.success(), "{}", text(&taken));
    let databases = app.stop().await;
    wipe(databases.data_dir());

    let [snapshot] = std::fs::read_dir(repository.path().join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let database = snapshot.join("case-management.db");
    let mut bytes = std::fs::read(&database).unwrap();
    bytes[100] ^= 0x01;
    std::fs::write(&database, &bytes).unwrap();
    let refused = docket(&settings, &["restore", "--from", &repo]);
    assert!(!refused.status.success());
    let said = text(&refused);
    assert!(said.contains("case-management.db is altered"), "{said}");
    assert_eq!(
        std::fs::read_dir(&data).unwrap().count(),
        0,
        "nothing written"
    );

    bytes[100] ^= 0x01;
    std::fs::write(&database, &bytes).unwrap();
    let [blob] = walk(&repository.path().join("blobs"))
        .into_iter()
        .filter(|p| p.is_file())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    std::fs::remove_file(&blob).unwrap();
    let refused = docket(&settings, &["restore", "--from", &repo]);
    assert!(!refused.status.success());
    let said = text(&refused);
    let name = blob.file_name().unwrap().to_str().unwrap();
    assert!(said.contains(&format!("{name} is missing")), "{said}");
    assert_eq!(
        std::fs::read_dir(&data).unwrap().count(),
        0,
        "nothing written"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = vec![dir.to_owned()];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
