//! Trusted time for the audit chain: with an authority configured, intake has its chain's head
//! timestamped periodically; `VerifyAuditChain` shows the latest stamp verified, openssl agrees,
//! and a chain rewritten after the stamp loses it. Timestamps given up in a long outage are
//! asked for again while intake runs, not only at its next start.
//!
//! The authority is `openssl ts -reply` behind a responder the test starts (tests/support/tsa.rs).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use docket_e2e::tsa::{TestTsa, openssl};
use docket_e2e::{Backend, TestApp, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::audit::v1 as audit;
use sea_orm::{ConnectionTrait, Statement};

use crate::evidence::new_allegation;
use crate::timestamps::{intake_db, stamped, upload_bytes, with_authority};

on_every_backend!(
    the_audit_head_is_timestamped_periodically_and_a_rewritten_chain_loses_its_stamp,
    a_running_replica_asks_again_for_timestamps_given_up_in_an_outage,
);

/// `VerifyAuditChain` of the service at `addr`, asked by an auditor.
pub(crate) async fn verify(app: &TestApp, addr: SocketAddr) -> audit::VerifyAuditChainResponse {
    let mut auditor = app.audit_as(addr, Role::Auditor).await;
    auditor
        .verify_audit_chain(audit::VerifyAuditChainRequest {})
        .await
        .unwrap()
        .into_inner()
}

/// Asks `VerifyAuditChain` of the service at `addr` until the latest head stamp is of the head
/// it reports.
pub(crate) async fn head_stamped(
    app: &TestApp,
    addr: SocketAddr,
) -> (audit::VerifyAuditChainResponse, audit::HeadTimestamp) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = verify(app, addr).await;
        if let Some(stamp) = answer.latest_head_timestamp.clone()
            && stamp.head_hash == answer.head_hash
        {
            return (answer, stamp);
        }
        assert!(
            Instant::now() < deadline,
            "the audit head is still not timestamped: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn the_audit_head_is_timestamped_periodically_and_a_rewritten_chain_loses_its_stamp(
    backend: Backend,
) {
    let tsa = TestTsa::start(true).await;
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        with_authority(settings, &tsa);
        settings.intake.timestamping.audit_head_interval_seconds = 1;
    })
    .await
    else {
        return;
    };
    new_allegation(&mut app.intake().await).await;
    let (answer, first) = head_stamped(&app, app.intake_addr).await;
    assert!(answer.intact, "{answer:?}");
    assert!(first.verified, "{}", first.problem);
    assert!(first.sequence >= 1);
    assert!(
        first.authority.contains("Docket Test TSA"),
        "{}",
        first.authority
    );

    // The chain grows: its new head is stamped at the next period.
    new_allegation(&mut app.intake().await).await;
    let (_, second) = head_stamped(&app, app.intake_addr).await;
    assert!(second.verified, "{}", second.problem);
    assert!(second.sequence > first.sequence);
    assert_ne!(second.head_hash, first.head_hash);

    // openssl agrees: the token is the authority's over this head hash.
    let token_file = tsa.dir().join("head.tst");
    std::fs::write(&token_file, &second.token).unwrap();
    let ca = tsa.ca_file();
    let checked = openssl(
        tsa.dir(),
        &[
            "ts",
            "-verify",
            "-digest",
            &second.head_hash,
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

    // The stamped entry rewritten behind the service's back: the stamp no longer verifies.
    let db = intake_db(&app).await;
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "UPDATE audit_entries SET entry_hash = '{}' WHERE sequence = {}",
            "ab".repeat(32),
            second.sequence
        ),
    ))
    .await
    .unwrap();
    let answer = verify(&app, app.intake_addr).await;
    let stamp = answer.latest_head_timestamp.unwrap();
    assert!(!stamp.verified);
    assert!(stamp.problem.contains("rewritten"), "{}", stamp.problem);
}

/// An authority down longer than the queue's retries leaves the job given up as failed; a
/// running replica asks again at its next sweep, without a restart.
async fn a_running_replica_asks_again_for_timestamps_given_up_in_an_outage(backend: Backend) {
    let tsa = TestTsa::start(false).await;
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        with_authority(settings, &tsa);
        settings.intake.timestamping.audit_head_interval_seconds = 0;
        settings.intake.timestamping.retry_given_up_interval_seconds = 1;
    })
    .await
    else {
        return;
    };
    let bytes = format!("filmed during the outage {}", uuid::Uuid::now_v7()).into_bytes();
    let id = upload_bytes(&app, &bytes).await;
    let db = intake_db(&app).await;
    // What the queue does after its last attempt, without waiting eleven minutes for it: once
    // the first attempt was refused and recorded.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let given_up = db
            .execute_raw(Statement::from_string(
                db.get_database_backend(),
                "UPDATE post_upload_jobs SET state = 'failed', attempts = 8, \
                 outcome = 'given up after 8 attempts: the authority refused' \
                 WHERE kind = 'trusted_time' AND state = 'pending' AND attempts >= 1",
            ))
            .await
            .unwrap();
        if given_up.rows_affected() == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the authority was never asked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tsa.set_up(true);
    let mut intake = app.intake_as(Role::Analyst).await;
    let stamp = stamped(&mut intake, &id).await;
    assert!(stamp.verified, "{}", stamp.problem);
    assert_eq!(tsa.counts().0, 1, "one token, for the one content");
}
