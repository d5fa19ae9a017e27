//! Data at rest: what someone who copies the data directory, a database or a backup can learn
//! of a source, and who else on the host can read the files at all.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use docket_e2e::{Backend, TestApp, allegation, on_every_backend, submit_request};
use docket_platform::ServiceKind;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::upload_evidence_request::Payload;
use prost::Message;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use sha2::{Digest, Sha256};

on_every_backend!(
    a_dictionary_attack_on_a_copy_of_the_data_finds_no_source,
    unkeyed_fingerprints_of_earlier_versions_are_replaced_and_retries_still_recognised,
    the_data_directory_is_its_owners_alone_whatever_the_umask,
);

const FIRST_NAMES: [&str; 15] = [
    "Leyla", "Aynur", "Gunel", "Nigar", "Sevinj", "Elvin", "Rashad", "Tural", "Kamran", "Anar",
    "Anush", "Armen", "Narek", "Lilit", "Gor",
];
const SURNAMES: [&str; 15] = [
    "Mammadova",
    "Aliyeva",
    "Huseynova",
    "Hasanov",
    "Guliyev",
    "Ismayilov",
    "Karimov",
    "Abbasova",
    "Petrosyan",
    "Hakobyan",
    "Sargsyan",
    "Grigoryan",
    "Harutyunyan",
    "Avetisyan",
    "Mkrtchyan",
];

fn candidate_names() -> Vec<String> {
    FIRST_NAMES
        .iter()
        .flat_map(|first| SURNAMES.iter().map(move |last| format!("{first} {last}")))
        .collect()
}

fn candidate_contacts() -> Vec<String> {
    (0..40).map(|n| format!("+994 50 000 00 {n:02}")).collect()
}

/// The submitted message with `name` and `contact` in its source, as a submission sends it.
fn message_with(template: &pb::Allegation, name: &str, contact: &str) -> pb::Allegation {
    let mut message = template.clone();
    let source = message.source.get_or_insert_default();
    source.name = name.to_owned();
    source.contact = contact.to_owned();
    message
}

/// Every form a SHA-256 could be stored in: lower and upper hex, and raw bytes.
#[derive(Default)]
struct Needles {
    hex: HashSet<String>,
    raw: HashSet<[u8; 32]>,
}

impl Needles {
    fn add(&mut self, bytes: &[u8]) {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        self.hex.insert(hex::encode(digest));
        self.raw.insert(digest);
    }

    /// Whether `haystack` holds any of them.
    fn found_in(&self, haystack: &[u8]) -> bool {
        let hex_found = haystack.windows(64).any(|window| {
            window.iter().all(u8::is_ascii_hexdigit)
                && self
                    .hex
                    .contains(&String::from_utf8_lossy(window).to_ascii_lowercase())
        });
        hex_found
            || haystack.windows(32).any(|window| {
                window
                    .try_into()
                    .is_ok_and(|w: [u8; 32]| self.raw.contains(&w))
            })
    }
}

/// The bytes of every file under `dir`.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((path, bytes));
        }
    }
    found
}

/// Every row of every table of every service's PostgreSQL database, as text.
async fn postgres_rows(app: &TestApp) -> Vec<(PathBuf, Vec<u8>)> {
    let mut rows = Vec::new();
    for kind in ServiceKind::ALL {
        let db = Database::connect(app.settings.database_url(kind))
            .await
            .unwrap();
        let tables = db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            ))
            .await
            .unwrap();
        for table in tables {
            let table: String = table.try_get_by_index(0).unwrap();
            let text = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!("SELECT row_to_json(t)::text FROM \"{table}\" t"),
                ))
                .await
                .unwrap();
            for row in text {
                let row: String = row.try_get_by_index(0).unwrap();
                rows.push((
                    PathBuf::from(format!("{}.{table}", kind.name())),
                    row.into(),
                ));
            }
        }
        db.close().await.unwrap();
    }
    rows
}

/// Someone holds a copy of the data (the SQLite files, or every row of the PostgreSQL
/// databases) and a list of candidate names and telephone numbers. They rebuild each
/// submitted message from the row's clear fields, fill in every candidate, hash, and look for
/// the hash anywhere; and they look for the hash of each candidate value alone.
async fn a_dictionary_attack_on_a_copy_of_the_data_finds_no_source(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let template = allegation();
    let sources = [
        ("Leyla Mammadova", "+994 50 000 00 07"),
        ("Narek Hakobyan", "+994 50 000 00 31"),
        ("Gunel Aliyeva", ""),
    ];
    for (name, contact) in sources {
        intake
            .submit_allegation(submit_request(message_with(&template, name, contact)))
            .await
            .unwrap();
    }

    let mut needles = Needles::default();
    let contacts = candidate_contacts();
    for name in candidate_names() {
        needles.add(name.as_bytes());
        for contact in contacts.iter().map(String::as_str).chain([""]) {
            needles.add(&message_with(&template, &name, contact).encode_to_vec());
        }
    }
    for contact in &contacts {
        needles.add(contact.as_bytes());
    }
    // The attack works: the old unkeyed fingerprint is among the needles.
    assert!(needles.hex.contains(&hex::encode(Sha256::digest(
        message_with(&template, sources[0].0, sources[0].1).encode_to_vec()
    ))));

    let copy = if backend == Backend::Postgres {
        let mut rows = postgres_rows(&app).await;
        rows.extend(files(&app.settings.data_dir));
        app.stop().await;
        rows
    } else {
        let stopped = app.stop().await;
        files(stopped.data_dir())
    };
    assert!(
        copy.iter()
            .any(|(_, bytes)| bytes.windows(b"Shahriyar".len()).any(|w| w == b"Shahriyar")),
        "the copy holds the allegations"
    );
    for (path, bytes) in &copy {
        assert!(
            !needles.found_in(bytes),
            "{} holds the SHA-256 of a candidate source or of a message filled with one",
            path.display()
        );
    }
}

/// The SHA-256 of a submitted message, as versions before keyed fingerprints stored it.
fn unkeyed(message: &pb::Allegation) -> String {
    hex::encode(Sha256::digest(message.encode_to_vec()))
}

async fn fingerprint_of(app: &TestApp, request_id: &str) -> String {
    let db = Database::connect(app.settings.database_url(ServiceKind::Intake))
        .await
        .unwrap();
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        "SELECT request_fingerprint FROM allegations WHERE request_id = $1"
    } else {
        "SELECT request_fingerprint FROM allegations WHERE request_id = ?"
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [request_id.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let fingerprint = row.try_get_by_index(0).unwrap();
    db.close().await.unwrap();
    fingerprint
}

async fn unkeyed_fingerprints_of_earlier_versions_are_replaced_and_retries_still_recognised(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let sent = allegation();
    let request = submit_request(sent.clone());
    let first = intake
        .submit_allegation(request.clone())
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    let stored = fingerprint_of(&app, &request.request_id).await;
    assert!(
        stored.starts_with("f1:dev:") && !stored.contains(&unkeyed(&sent)),
        "a fingerprint is keyed: {stored}"
    );

    // What an earlier version left: the SHA-256 of the whole message.
    let db = Database::connect(app.settings.database_url(ServiceKind::Intake))
        .await
        .unwrap();
    let backend_sql = db.get_database_backend();
    let sql = if backend_sql == DbBackend::Postgres {
        "UPDATE allegations SET request_fingerprint = $1 WHERE request_id = $2"
    } else {
        "UPDATE allegations SET request_fingerprint = ? WHERE request_id = ?"
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend_sql,
        sql,
        [unkeyed(&sent).into(), request.request_id.clone().into()],
    ))
    .await
    .unwrap();
    db.close().await.unwrap();

    let app = app.restart().await;
    let rekeyed = fingerprint_of(&app, &request.request_id).await;
    assert_eq!(
        rekeyed, stored,
        "the old value is rekeyed to what a retry computes"
    );
    if backend == Backend::Sqlite {
        for (path, bytes) in files(&app.settings.data_dir) {
            assert!(
                !bytes.windows(64).any(|w| w == unkeyed(&sent).as_bytes()),
                "{} still holds the unkeyed fingerprint",
                path.display()
            );
        }
    }

    // A retry of the submission made before the upgrade is still recognised…
    let mut intake = app.intake().await;
    let retried = intake
        .submit_allegation(request.clone())
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(retried.id, first.id);
    // …and its request id still cannot carry another allegation, nor another source.
    for other in [
        message_with(&sent, "Leyla Mammadova", "+994 50 000 00 01"),
        message_with(&sent, "Aynur Mammadova", "+994 50 000 00 00"),
    ] {
        let refused = intake
            .submit_allegation(pb::SubmitAllegationRequest {
                request_id: request.request_id.clone(),
                allegation: Some(other),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert_eq!(docket_e2e::field_violations(&refused), ["request_id"]);
    }
    app.stop().await;
}

/// The permission bits of `path`.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every directory under `dir` whose mode is not 0700 and every file whose mode is not 0600.
fn readable_by_others(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut found = Vec::new();
    if mode(dir) != 0o700 {
        found.push((dir.to_owned(), mode(dir)));
    }
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        // SQLite may remove its -wal and -shm as we look.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            found.extend(readable_by_others(&path));
        } else if std::fs::metadata(&path).is_ok() && mode(&path) != 0o600 {
            let bits = mode(&path);
            found.push((path, bits));
        }
    }
    found
}

/// A service started with `umask 000` still writes nothing another user of the host can read:
/// databases and their -wal and -shm, keys, evidence blobs and the temporary files uploads
/// stream into.
async fn the_data_directory_is_its_owners_alone_whatever_the_umask(backend: Backend) {
    rustix::process::umask(rustix::fs::Mode::empty());
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let dir = app.settings.data_dir.clone();
    app.stored_evidence(b"a video of the shelling").await;

    // An upload still streaming in.
    let mut intake = app.intake().await;
    let allegation_id = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
        .id;
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    sender
        .send(pb::UploadEvidenceRequest {
            payload: Some(Payload::Metadata(pb::EvidenceMetadata {
                allegation_id,
                file_name: "video.mp4".into(),
                collected_time: Some(prost_types::Timestamp {
                    seconds: 1_603_000_000,
                    nanos: 0,
                }),
                collected_by: "analyst.petrosyan".into(),
                collection_method: pb::CollectionMethod::PlatformDownload.into(),
                ..Default::default()
            })),
        })
        .await
        .unwrap();
    sender
        .send(pb::UploadEvidenceRequest {
            payload: Some(Payload::Chunk(vec![7; 1 << 20].into())),
        })
        .await
        .unwrap();
    let upload = tokio::spawn(async move {
        intake
            .upload_evidence(tokio_stream::wrappers::ReceiverStream::new(receiver))
            .await
    });
    let temporary = dir.join("blobs/tmp");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(&temporary).map_or(true, |mut d| d.next().is_none())
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let during_upload = readable_by_others(&dir);
    drop(sender);
    upload.await.unwrap().unwrap();
    let databases = app.stop().await;
    let after = readable_by_others(&dir);
    assert!(
        during_upload.is_empty() && after.is_empty(),
        "readable by others: {during_upload:?} {after:?}"
    );
    if backend == Backend::Sqlite {
        assert!(dir.join("intake.db").exists(), "the databases were walked");
    }
    assert!(
        files(&dir.join("blobs")).len() >= 2,
        "the blobs were walked"
    );
    drop(databases);
}
