//! Trusted time: each evidence hash gets an RFC 3161 timestamp from the authority in settings,
//! after the upload commits, retried while the authority is down; `VerifyEvidence` verifies the
//! stored token and reports its time; openssl agrees; a tampered token fails. Without an
//! authority nothing is asked; one configured later stamps what was stored before.
//!
//! The authority is `openssl ts -reply` behind a responder the test starts (tests/support/tsa.rs).

use std::time::{Duration, Instant};

use docket_e2e::tsa::{TSA_POLICY, TestTsa, openssl};
use docket_e2e::{Backend, IntakeClient, TestApp, on_every_backend};
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_platform::db::placeholder;
use docket_platform::settings::Settings;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use sha2::{Digest, Sha256};

use crate::evidence::{metadata, new_allegation, upload, verify};

on_every_backend!(
    evidence_is_timestamped_once_the_authority_answers_and_a_tampered_token_fails,
    without_an_authority_nothing_is_timestamped,
    an_authority_configured_later_timestamps_what_was_stored_before,
    a_timestamp_given_up_in_a_long_outage_is_tried_again_at_the_next_start,
);

pub(crate) fn with_authority(settings: &mut Settings, tsa: &TestTsa) {
    settings.intake.timestamping.url = Some(tsa.url());
    settings.intake.timestamping.ca_file = Some(tsa.ca_file());
    settings.intake.timestamping.policy = Some(TSA_POLICY.to_owned());
    // The audit head's stamps would be answered by the same authority: off here, where the
    // authority's answers are counted (tests/e2e/audit_timestamps.rs turns them on).
    settings.intake.timestamping.audit_head_interval_seconds = 0;
}

/// Uploads `bytes` to a new allegation; returns the evidence id.
pub(crate) async fn upload_bytes(app: &TestApp, bytes: &[u8]) -> String {
    let allegation_id = new_allegation(&mut app.intake().await).await;
    let mut meta = metadata(&allegation_id, "");
    meta.file_name = "statement.txt".into();
    meta.media_type = "text/plain".into();
    upload(&mut app.intake().await, meta, bytes, 1024)
        .await
        .unwrap()
        .evidence
        .unwrap()
        .id
}

/// The check `VerifyEvidence` gives of evidence `id`.
async fn check_of(intake: &mut IntakeClient, id: &str) -> pb::BlobCheck {
    let messages = verify(intake, id).await.unwrap();
    assert_eq!(messages.len(), 1);
    messages[0].check.clone().unwrap()
}

/// Asks `VerifyEvidence` until evidence `id` shows a timestamp.
pub(crate) async fn stamped(intake: &mut IntakeClient, id: &str) -> pb::TrustedTimestamp {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(stamp) = check_of(intake, id).await.trusted_time {
            return stamp;
        }
        assert!(
            Instant::now() < deadline,
            "evidence {id} is still not timestamped"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub(crate) async fn intake_db(app: &TestApp) -> DatabaseConnection {
    Database::connect(app.settings.database_url(ServiceKind::Intake))
        .await
        .unwrap()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn evidence_is_timestamped_once_the_authority_answers_and_a_tampered_token_fails(
    backend: Backend,
) {
    let tsa = TestTsa::start(false).await;
    let Some(app) = TestApp::spawn_with(backend, |settings| with_authority(settings, &tsa)).await
    else {
        return;
    };
    let bytes = format!("witness statement {}", uuid::Uuid::now_v7()).into_bytes();
    let before = chrono::Utc::now();
    let id = upload_bytes(&app, &bytes).await;
    let mut intake = app.intake_as(Role::Analyst).await;

    // The authority is down: the job is refused, nothing is stored, and it is tried again.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tsa.counts().1 == 0 {
        assert!(Instant::now() < deadline, "the authority was never asked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(check_of(&mut intake, &id).await.trusted_time.is_none());
    tsa.set_up(true);
    let stamp = stamped(&mut intake, &id).await;
    let after = chrono::Utc::now();
    assert!(stamp.verified, "{}", stamp.problem);
    assert_eq!(stamp.problem, "");
    assert_eq!(stamp.policy, TSA_POLICY);
    assert!(
        stamp.authority.contains("Docket Test TSA"),
        "{}",
        stamp.authority
    );
    let time = stamp.time.unwrap();
    // The authority's clock is this machine's; its accuracy is a second and a half.
    assert!(
        time.seconds >= before.timestamp() - 2 && time.seconds <= after.timestamp() + 2,
        "stamped at {time:?}, uploaded between {before} and {after}"
    );
    let (answered, refused) = tsa.counts();
    assert_eq!(answered, 1, "one token per content");
    assert!(refused >= 1);

    // openssl agrees with the token, for these bytes and this CA.
    let token_file = tsa.dir().join("evidence.tst");
    std::fs::write(&token_file, &stamp.token).unwrap();
    let ca = tsa.ca_file();
    let checked = openssl(
        tsa.dir(),
        &[
            "ts",
            "-verify",
            "-digest",
            &sha256_hex(&bytes),
            "-in",
            token_file.to_str().unwrap(),
            "-token_in",
            "-CAfile",
            ca.to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&checked.stdout).contains("Verification: OK"),
        "{checked:?}"
    );

    // One byte of the stored signature changed: the token no longer verifies.
    let db = intake_db(&app).await;
    let backend_kind = db.get_database_backend();
    let mut tampered = stamp.token.to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let sql = format!(
        "UPDATE trusted_timestamps SET token = {}",
        placeholder(backend_kind, 1)
    );
    db.execute_raw(Statement::from_sql_and_values(
        backend_kind,
        sql,
        [tampered.clone().into()],
    ))
    .await
    .unwrap();
    let check = check_of(&mut intake, &id).await;
    let shown = check.trusted_time.unwrap();
    assert!(!shown.verified);
    assert!(shown.problem.contains("signature"), "{}", shown.problem);
    assert!(shown.time.is_none());
    // openssl refuses it too.
    std::fs::write(&token_file, &tampered).unwrap();
    let refused_by_openssl = std::process::Command::new("openssl")
        .args([
            "ts",
            "-verify",
            "-digest",
            &sha256_hex(&bytes),
            "-token_in",
            "-in",
        ])
        .arg(&token_file)
        .arg("-CAfile")
        .arg(&ca)
        .output()
        .unwrap();
    assert!(!refused_by_openssl.status.success());

    // A token for other bytes: the imprint does not match this file.
    let other = format!("another statement {}", uuid::Uuid::now_v7()).into_bytes();
    let other_id = upload_bytes(&app, &other).await;
    let other_stamp = stamped(&mut intake, &other_id).await;
    assert!(other_stamp.verified, "{}", other_stamp.problem);
    let sql = format!(
        "UPDATE trusted_timestamps SET token = {} WHERE subject = {}",
        placeholder(backend_kind, 1),
        placeholder(backend_kind, 2)
    );
    db.execute_raw(Statement::from_sql_and_values(
        backend_kind,
        sql,
        [other_stamp.token.to_vec().into(), sha256_hex(&bytes).into()],
    ))
    .await
    .unwrap();
    let moved = check_of(&mut intake, &id).await.trusted_time.unwrap();
    assert!(!moved.verified);
    assert!(moved.problem.contains("imprint"), "{}", moved.problem);

    // The other content's own token, with the nonce Docket kept for it changed: a replayed
    // answer to another request is refused.
    let sql = format!(
        "UPDATE trusted_timestamps SET nonce = {} WHERE subject = {}",
        placeholder(backend_kind, 1),
        placeholder(backend_kind, 2)
    );
    db.execute_raw(Statement::from_sql_and_values(
        backend_kind,
        sql,
        ["4141414141414141".into(), sha256_hex(&other).into()],
    ))
    .await
    .unwrap();
    let replayed = check_of(&mut intake, &other_id).await.trusted_time.unwrap();
    assert!(!replayed.verified);
    assert!(replayed.problem.contains("nonce"), "{}", replayed.problem);
}

async fn without_an_authority_nothing_is_timestamped(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let id = upload_bytes(&app, b"a file kept without trusted time").await;
    let mut intake = app.intake_as(Role::Analyst).await;
    let check = check_of(&mut intake, &id).await;
    assert!(check.intact);
    assert!(check.trusted_time.is_none());
    let db = intake_db(&app).await;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM post_upload_jobs WHERE kind = 'trusted_time'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM trusted_timestamps").await,
        0
    );
}

async fn an_authority_configured_later_timestamps_what_was_stored_before(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bytes = format!("stored before any authority {}", uuid::Uuid::now_v7()).into_bytes();
    let id = upload_bytes(&app, &bytes).await;
    let mut settings = app.settings.clone();
    let databases = app.stop().await;
    let tsa = TestTsa::start(true).await;
    with_authority(&mut settings, &tsa);
    let app = TestApp::start_on(databases, settings).await;
    let mut intake = app.intake_as(Role::Analyst).await;
    let stamp = stamped(&mut intake, &id).await;
    assert!(stamp.verified, "{}", stamp.problem);
    assert_eq!(tsa.counts().0, 1);
}

/// An authority down longer than the queue's retries (eight, over about eleven minutes) leaves
/// the job given up as failed; the next start asks again, from the first attempt.
async fn a_timestamp_given_up_in_a_long_outage_is_tried_again_at_the_next_start(backend: Backend) {
    let tsa = TestTsa::start(false).await;
    let Some(app) = TestApp::spawn_with(backend, |settings| with_authority(settings, &tsa)).await
    else {
        return;
    };
    let bytes = format!("filmed during the outage {}", uuid::Uuid::now_v7()).into_bytes();
    let id = upload_bytes(&app, &bytes).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while tsa.counts().1 == 0 {
        assert!(Instant::now() < deadline, "the authority was never asked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let settings = app.settings.clone();
    let db = intake_db(&app).await;
    let databases = app.stop().await;
    // What the queue does after its last attempt, without waiting eleven minutes for it.
    let given_up = db
        .execute_raw(Statement::from_string(
            db.get_database_backend(),
            "UPDATE post_upload_jobs SET state = 'failed', attempts = 8, \
             outcome = 'given up after 8 attempts: the authority refused' \
             WHERE kind = 'trusted_time'",
        ))
        .await
        .unwrap();
    assert_eq!(given_up.rows_affected(), 1);
    db.close().await.unwrap();

    tsa.set_up(true);
    let app = TestApp::start_on(databases, settings).await;
    let mut intake = app.intake_as(Role::Analyst).await;
    let stamp = stamped(&mut intake, &id).await;
    assert!(stamp.verified, "{}", stamp.problem);
    assert_eq!(tsa.counts().0, 1, "one token, for the one content");
}
