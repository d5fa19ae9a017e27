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

/// An age identity file in `dir` (as `age-keygen` writes it); returns it and its recipient.
fn age_identity(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    use age::secrecy::ExposeSecret;
    let identity = age::x25519::Identity::generate();
    let path = dir.join(name);
    std::fs::write(&path, identity.to_string().expose_secret()).unwrap();
    (path, identity.to_public().to_string())
}

/// Three key holders, any two of whom recover the keys.
struct Holders {
    dir: tempfile::TempDir,
    identities: Vec<std::path::PathBuf>,
    recipients: Vec<String>,
}

impl Holders {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (identities, recipients) = (1..=3)
            .map(|n| age_identity(dir.path(), &format!("holder-{n}.key")))
            .unzip();
        Self {
            dir,
            identities,
            recipients,
        }
    }

    fn shares(&self) -> std::path::PathBuf {
        self.dir.path().join("shares")
    }

    fn share(&self, n: usize) -> String {
        self.shares()
            .join(format!("docket-keys-share-{n}-of-3.age"))
            .to_str()
            .unwrap()
            .to_owned()
    }
}

/// `docket keys export`, split 2 of 3 among `holders`, each share encrypted to its holder.
fn export_keys(settings: &Settings, holders: &Holders) {
    let out = holders.shares();
    let mut args = vec!["keys", "export", "--threshold", "2", "--out"];
    args.push(out.to_str().unwrap());
    for recipient in &holders.recipients {
        args.extend(["--recipient", recipient]);
    }
    let exported = docket(settings, &args);
    assert!(exported.status.success(), "{}", text(&exported));
    for n in 1..=3 {
        let share = std::fs::read(holders.share(n)).unwrap();
        assert!(share.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
    }
}

/// `docket keys import` from the shares `numbers`, each opened by its holder's identity.
fn import_keys(settings: &Settings, holders: &Holders, numbers: &[usize]) -> Output {
    let mut args = vec!["keys".to_owned(), "import".to_owned()];
    for &n in numbers {
        args.extend(["--share".to_owned(), holders.share(n)]);
        args.extend([
            "--identity".to_owned(),
            holders.identities[n - 1].to_str().unwrap().to_owned(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    docket(settings, &args)
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

/// Takes backup number `n`, encrypted to `recipient`: on PostgreSQL the dumps first, into
/// `dumps`.
async fn take_backup(
    backend: Backend,
    settings: &Settings,
    repo: &str,
    recipient: &str,
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
    let mut args = vec![
        "backup".to_owned(),
        "--out".to_owned(),
        repo.to_owned(),
        "--recipient".to_owned(),
        recipient.to_owned(),
    ];
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
/// latest snapshot in `repository` holds it (checked by `docket restore` against the manifest),
/// decrypted with `identity` (as `age -d -i` would).
fn restore_dumps(settings: &Settings, repository: &Path, n: usize, identity: &Path) {
    let mut snapshots: Vec<_> = std::fs::read_dir(repository.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    snapshots.sort();
    let dumps = snapshots.pop().unwrap().join("added");
    let admin = std::env::var(docket_e2e::POSTGRES_VARIABLE).unwrap();
    let clear = tempfile::tempdir().unwrap();
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
        let sealed = std::fs::read(dumps.join(format!("{n}-{}.dump.age", kind.name()))).unwrap();
        let key: age::x25519::Identity = std::fs::read_to_string(identity)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let file = clear.path().join(format!("{n}-{}.dump", kind.name()));
        std::fs::write(&file, age::decrypt(&key, &sealed).unwrap()).unwrap();
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
    // The backups are encrypted to the office's backup key, which the backup host never holds.
    let office = tempfile::tempdir().unwrap();
    let (backup_identity, backup_recipient) = age_identity(office.path(), "backup.key");
    let identity = backup_identity.to_str().unwrap().to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| tokio::spawn(work(app.clone(), worker, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    take_backup(
        backend,
        &app.settings,
        &repo,
        &backup_recipient,
        dumps.path(),
        1,
    )
    .await;
    let first_manifest = latest_manifest(repository.path());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let second_started = Instant::now();
    let second = take_backup(
        backend,
        &app.settings,
        &repo,
        &backup_recipient,
        dumps.path(),
        2,
    )
    .await;
    let manifest = latest_manifest(repository.path());
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
    // The second backup copied only the evidence files the first did not hold, and left the
    // ones it held untouched.
    let second_text = text(&second);
    let counts: Vec<usize> = second_text
        .lines()
        .find_map(|line| line.strip_prefix("evidence files: "))
        .map(|rest| {
            rest.split(", ")
                .map(|part| part.split(' ').next().unwrap().parse().unwrap())
                .collect()
        })
        .unwrap_or_else(|| panic!("{second_text}"));
    let (blobs_then, blobs_now) = (blobs_of(&first_manifest), blobs_of(&manifest));
    let new = blobs_now.difference(&blobs_then).count();
    assert!(!blobs_then.is_empty() && new > 0, "{second_text}");
    assert_eq!(
        counts,
        [new, blobs_now.len() - new],
        "copied, already held: {second_text}"
    );
    for blob in &blobs_then {
        assert_eq!(
            first_manifest["files"][blob], manifest["files"][blob],
            "{blob} is the same file in both snapshots"
        );
    }
    // Encrypted: no database, dump or evidence file is readable on the backup host.
    for file in walk(repository.path()).into_iter().filter(|p| p.is_file()) {
        let bytes = std::fs::read(&file).unwrap();
        if file.file_name().unwrap() == "manifest.json" {
            continue;
        }
        assert!(
            bytes.starts_with(b"age-encryption.org/v1"),
            "{} is not encrypted",
            file.display()
        );
    }
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
    let holders = Holders::new();
    export_keys(&settings, &holders);
    wipe(&data);
    let refused = docket(&settings, &["restore", "--from", &repo]);
    assert!(
        !refused.status.success() && text(&refused).contains("--identity"),
        "an encrypted snapshot needs its identity: {}",
        text(&refused)
    );
    let (stranger, _) = age_identity(office.path(), "stranger.key");
    let refused = docket(
        &settings,
        &[
            "restore",
            "--from",
            &repo,
            "--identity",
            stranger.to_str().unwrap(),
        ],
    );
    assert!(
        !refused.status.success() && text(&refused).contains("another key"),
        "{}",
        text(&refused)
    );
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);
    let restored = docket(
        &settings,
        &["restore", "--from", &repo, "--identity", &identity],
    );
    assert!(restored.status.success(), "{}", text(&restored));
    if backend == Backend::Postgres {
        restore_dumps(&settings, repository.path(), 2, &backup_identity);
    }
    assert!(
        !data.join("sealing-dev.key").exists(),
        "a backup never holds the keys"
    );
    // One holder alone cannot bring the keys back; any two can.
    let alone = import_keys(&settings, &holders, &[2]);
    assert!(!alone.status.success());
    assert!(
        text(&alone).contains("2 of the 3 are needed"),
        "{}",
        text(&alone)
    );
    let imported = import_keys(&settings, &holders, &[3, 1]);
    assert!(imported.status.success(), "{}", text(&imported));
    let again = docket(
        &settings,
        &["restore", "--from", &repo, "--identity", &identity],
    );
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
        let found = intake
            .get_allegation(pb::GetAllegationRequest {
                id: ack.allegation_id.clone(),
            })
            .await
            .unwrap_or_else(|s| panic!("{} lost: {s:?}", ack.allegation_id));
        let source = found.into_inner().allegation.unwrap().source.unwrap();
        assert_eq!(source.name, allegation().source.unwrap().name);
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

    // Each audit chain verifies from its first entry through the head the manifest recorded;
    // and goes on from there.
    for (addr, service) in [
        (app.intake_addr, "intake"),
        (app.case_management_addr, "case-management"),
        (app.reporting_addr, "reporting"),
    ] {
        let chain = verify_chain(&app, addr).await;
        assert!(chain.intact, "{service}: {chain:?}");
        let recorded = manifest["databases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["service"] == service)
            .map(|d| d["audit_head"].clone())
            .unwrap_or_default();
        if let Some(sequence) = recorded["sequence"].as_i64() {
            assert!(chain.entries_checked >= sequence, "{service}: {chain:?}");
            if chain.entries_checked == sequence {
                assert_eq!(chain.head_hash, recorded["entry_hash"], "{service}");
            }
        }
    }
    let intake_chain = verify_chain(&app, app.intake_addr).await;
    let accepted_after = submit(&mut intake, allegation()).await;
    accept(&mut intake, &accepted_after).await;
    let continued = verify_chain(&app, app.intake_addr).await;
    assert!(continued.intact, "{continued:?}");
    assert!(continued.entries_checked > intake_chain.entries_checked);
    let [_] = cases_of(&mut case_client, &accepted_after)
        .await
        .try_into()
        .unwrap();
    let cases_chain = verify_chain(&app, app.case_management_addr).await;
    assert!(cases_chain.intact, "{cases_chain:?}");

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
    // Caught up, every redelivery done: still one case per accepted allegation, none twice.
    for ack in before.iter().filter(|a| a.accepted) {
        let found = cases_of(&mut case_client, &ack.allegation_id).await;
        assert_eq!(found.len(), 1, "cases of {}", ack.allegation_id);
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

/// The manifest of the latest snapshot in `repository`.
fn latest_manifest(repository: &Path) -> serde_json::Value {
    let mut snapshots: Vec<_> = std::fs::read_dir(repository.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_str().unwrap().starts_with('.'))
        .collect();
    snapshots.sort();
    let text = std::fs::read(snapshots.pop().unwrap().join("manifest.json")).unwrap();
    serde_json::from_slice(&text).unwrap()
}

/// The evidence files a manifest lists.
fn blobs_of(manifest: &serde_json::Value) -> std::collections::BTreeSet<String> {
    manifest["files"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|path| path.starts_with("blobs/"))
        .cloned()
        .collect()
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
