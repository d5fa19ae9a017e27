//! Trusted time for the audit chains of case management and reporting: with an authority in
//! their own settings, each has its chain's head timestamped periodically, asked again with a
//! backoff while the authority is down, and after a restart; `VerifyAuditChain` shows the latest
//! stamp verified, and a tampered token or a chain rewritten after the stamp fails. A service
//! without an authority shows none.
//!
//! The authority is `openssl ts -reply` behind a responder the test starts (tests/support/tsa.rs).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use docket_e2e::tsa::{TSA_POLICY, TestTsa};
use docket_e2e::{Backend, TestApp, case_message, on_every_backend};
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_platform::db::placeholder;
use docket_platform::settings::TimestampingSettings;
use docket_proto::docket::audit::v1 as audit;
use docket_proto::docket::cases::v1 as cases;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

use crate::audit_timestamps::{head_stamped, verify};

on_every_backend!(
    case_management_has_its_audit_head_timestamped_once_the_authority_answers,
    reporting_has_its_audit_head_timestamped_after_a_restart,
);

/// The test authority, asked for the audit head every second.
fn authority(tsa: &TestTsa) -> TimestampingSettings {
    TimestampingSettings {
        url: Some(tsa.url()),
        ca_file: Some(tsa.ca_file()),
        policy: Some(TSA_POLICY.to_owned()),
        audit_head_interval_seconds: 1,
        ..TimestampingSettings::default()
    }
}

async fn database(app: &TestApp, kind: ServiceKind) -> DatabaseConnection {
    Database::connect(app.settings.database_url(kind))
        .await
        .unwrap()
}

/// An audited write in case management: a case opened by hand.
async fn open_case(app: &TestApp, title: &str) {
    app.cases()
        .await
        .open_case(cases::OpenCaseRequest {
            r#case: Some(case_message(title, "AM")),
        })
        .await
        .unwrap();
}

/// Replaces the stored token of the head `hash` with `token`.
async fn store_token(db: &DatabaseConnection, hash: &str, token: Vec<u8>) {
    let backend = db.get_database_backend();
    let sql = format!(
        "UPDATE trusted_timestamps SET token = {} WHERE subject_kind = 'audit_head' AND \
         subject = {}",
        placeholder(backend, 1),
        placeholder(backend, 2)
    );
    let updated = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [token.into(), hash.into()],
        ))
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 1);
}

/// The stored token of `stamp` changed by one bit: `VerifyAuditChain` at `addr` says it fails;
/// put back, it verifies again.
async fn a_tampered_token_fails(
    app: &TestApp,
    addr: SocketAddr,
    db: &DatabaseConnection,
    stamp: &audit::HeadTimestamp,
) {
    let mut tampered = stamp.token.to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    store_token(db, &stamp.head_hash, tampered).await;
    let shown = verify(app, addr).await.latest_head_timestamp.unwrap();
    assert_eq!(shown.head_hash, stamp.head_hash);
    assert!(!shown.verified);
    assert!(shown.problem.contains("signature"), "{}", shown.problem);
    assert!(shown.time.is_none());

    store_token(db, &stamp.head_hash, stamp.token.to_vec()).await;
    let shown = verify(app, addr).await.latest_head_timestamp.unwrap();
    assert!(shown.verified, "{}", shown.problem);
}

/// The stamped entry rewritten behind the service's back: the stamp no longer verifies.
async fn a_rewritten_chain_loses_its_stamp(
    app: &TestApp,
    addr: SocketAddr,
    db: &DatabaseConnection,
    stamp: &audit::HeadTimestamp,
) {
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "UPDATE audit_entries SET entry_hash = '{}' WHERE sequence = {}",
            "ab".repeat(32),
            stamp.sequence
        ),
    ))
    .await
    .unwrap();
    let shown = verify(app, addr).await.latest_head_timestamp.unwrap();
    assert!(!shown.verified);
    assert!(shown.problem.contains("rewritten"), "{}", shown.problem);
}

async fn case_management_has_its_audit_head_timestamped_once_the_authority_answers(
    backend: Backend,
) {
    let tsa = TestTsa::start(false).await;
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        settings.case_management.timestamping = authority(&tsa);
    })
    .await
    else {
        return;
    };
    let addr = app.case_management_addr;
    open_case(&app, "Shelling of the market").await;

    // The authority is down: asked, refused, nothing stored; asked again.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tsa.counts().1 < 2 {
        assert!(
            Instant::now() < deadline,
            "the authority was not asked again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(verify(&app, addr).await.latest_head_timestamp.is_none());
    tsa.set_up(true);
    let (answer, first) = head_stamped(&app, addr).await;
    assert!(answer.intact, "{answer:?}");
    assert!(first.verified, "{}", first.problem);
    assert!(first.sequence >= 1);
    assert_eq!(first.policy, TSA_POLICY);
    assert!(
        first.authority.contains("Docket Test TSA"),
        "{}",
        first.authority
    );

    // The chain grows: its new head is stamped at the next period.
    open_case(&app, "Shelling of the hospital").await;
    let (_, second) = head_stamped(&app, addr).await;
    assert!(second.verified, "{}", second.problem);
    assert!(second.sequence > first.sequence);
    assert_ne!(second.head_hash, first.head_hash);

    // Intake and reporting have no authority: they show no stamp.
    for other in [app.intake_addr, app.reporting_addr] {
        assert!(verify(&app, other).await.latest_head_timestamp.is_none());
    }

    let db = database(&app, ServiceKind::CaseManagement).await;
    a_tampered_token_fails(&app, addr, &db, &second).await;
    a_rewritten_chain_loses_its_stamp(&app, addr, &db, &second).await;
}

/// Reporting's chain grows by the refused calls it audits, written once a minute or when it
/// stops; the restarted service stamps the head it finds at once.
async fn reporting_has_its_audit_head_timestamped_after_a_restart(backend: Backend) {
    let tsa = TestTsa::start(true).await;
    let Some(mut app) = TestApp::spawn_with(backend, |settings| {
        settings.reporting.timestamping = authority(&tsa);
    })
    .await
    else {
        return;
    };
    let addr = app.reporting_addr;
    let refused = app
        .audit_as(addr, Role::IntakeOfficer)
        .await
        .verify_audit_chain(audit::VerifyAuditChainRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    app.stop_reporting().await;
    app.start_reporting().await;

    let (answer, stamp) = head_stamped(&app, addr).await;
    assert!(answer.intact, "{answer:?}");
    assert!(stamp.verified, "{}", stamp.problem);
    assert_eq!(stamp.sequence, 1);
    assert_eq!(stamp.policy, TSA_POLICY);
    // A head already stamped is not asked for again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(tsa.counts().0, 1, "one token for the one head");

    let db = database(&app, ServiceKind::Reporting).await;
    a_tampered_token_fails(&app, addr, &db, &stamp).await;
    a_rewritten_chain_loses_its_stamp(&app, addr, &db, &stamp).await;
}
