//! A key rotation killed with `kill -9`: the real `docket serve`, its sources' and witnesses'
//! identities sealed with key k1, restarted with k2 current; it re-seals in the background (one
//! batch, then a pause that `sealing.reseal_pause_ms` makes long enough to land the kill in), is
//! killed mid-way in both intake and case management, started again, and finishes; then k1 is
//! removed and every identity opens under k2.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use docket_e2e::{Backend, Bearer, TestDatabases, allegation, case_message, submit_request};
use docket_platform::ServiceKind;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::cases::v1::case_service_client::CaseServiceClient;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use process::Server;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tonic::transport::Channel;

mod process;

const K1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const K2: &str = "2222222222222222222222222222222222222222222222222222222222222222";
/// Allegations, two sealed values each: more than two batches of 50 per column.
const ALLEGATIONS: usize = 120;
/// Witnesses, two sealed values each: more than one batch per column.
const WITNESSES: usize = 60;
const WITNESS: &str = "Gulnara Aliyeva";
const WITNESS_CONTACT: &str = "+994 55 111 22 33";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_killed_with_sigkill_completes_on_restart_on_sqlite() {
    rotation_killed_midway(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_killed_with_sigkill_completes_on_restart_on_postgres() {
    if Backend::postgres_configured() {
        rotation_killed_midway(Backend::Postgres).await;
    } else {
        eprintln!("DOCKET_TEST_DATABASE_URL is not set: PostgreSQL not tested");
    }
}

/// The environment of `docket serve` over `databases` with the keys `keys` (id, hex), `current`
/// sealing new values, and `pause_ms` between re-seal batches.
fn environment(
    databases: &TestDatabases,
    keys: &[(&str, &str)],
    current: &str,
    pause_ms: u64,
) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "DOCKET__INTAKE__DATABASE_URL".to_owned(),
            databases.url(ServiceKind::Intake),
        ),
        (
            "DOCKET__CASE_MANAGEMENT__DATABASE_URL".to_owned(),
            databases.url(ServiceKind::CaseManagement),
        ),
        (
            "DOCKET__REPORTING__DATABASE_URL".to_owned(),
            databases.url(ServiceKind::Reporting),
        ),
        (
            "DOCKET__SEALING__CURRENT_KEY_ID".to_owned(),
            current.to_owned(),
        ),
        (
            "DOCKET__SEALING__RESEAL_PAUSE_MS".to_owned(),
            pause_ms.to_string(),
        ),
    ];
    for (id, key) in keys {
        env.push((
            format!("DOCKET__SEALING__KEYS__{}", id.to_uppercase()),
            (*key).to_owned(),
        ));
    }
    env
}

fn start(databases: &TestDatabases, env: &[(String, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Server::start_in(databases.data_dir(), &env)
}

async fn channel(address: &str) -> Channel {
    Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Values sealed with `key`: intake's sources (names and contacts) and case management's
/// sealed persons (names and contacts).
async fn sealed_with(
    intake: &DatabaseConnection,
    cases: &DatabaseConnection,
    key: &str,
) -> (i64, i64) {
    let count = |db: &DatabaseConnection, sql: String| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    let pattern = format!("'v1:{key}:%'");
    (
        count(
            intake,
            format!(
                "SELECT (SELECT COUNT(*) FROM allegations WHERE source_name LIKE {pattern}) \
                 + (SELECT COUNT(*) FROM allegations WHERE source_contact LIKE {pattern})"
            ),
        )
        .await,
        count(
            cases,
            format!(
                "SELECT (SELECT COUNT(*) FROM persons WHERE display_name LIKE {pattern}) \
                 + (SELECT COUNT(*) FROM persons WHERE contact LIKE {pattern})"
            ),
        )
        .await,
    )
}

async fn rotation_killed_midway(backend: Backend) {
    let databases = TestDatabases::create(backend).await.unwrap();
    let with_k1 = environment(&databases, &[("k1", K1)], "k1", 0);
    let server = start(&databases, &with_k1);

    // Sources and witnesses, sealed with k1.
    let officer = Bearer::token(&server.token("intake_officer", "officer.aliyev"));
    let mut intake =
        IntakeServiceClient::with_interceptor(channel(server.intake()).await, officer.clone());
    let mut allegation_ids = Vec::new();
    for _ in 0..ALLEGATIONS {
        let stored = intake
            .submit_allegation(submit_request(allegation()))
            .await
            .unwrap();
        allegation_ids.push(stored.into_inner().allegation.unwrap().id);
    }
    let investigator = Bearer::token(&server.token("investigator", "investigator.huseynov"));
    let mut case_client = CaseServiceClient::with_interceptor(
        channel(&server.addresses["case-management"]).await,
        investigator,
    );
    let case = case_client
        .open_case(cases::OpenCaseRequest {
            r#case: Some(case_message("Execution of prisoners of war", "AZ")),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let mut etag = case.etag.clone();
    for n in 0..WITNESSES {
        let added = case_client
            .add_person(cases::AddPersonRequest {
                case_id: case.id.clone(),
                etag: etag.clone(),
                person: Some(cases::Person {
                    role: cases::PersonRole::Witness.into(),
                    display_name: WITNESS.into(),
                    contact: WITNESS_CONTACT.into(),
                    pseudonym: format!("W-{n:03}"),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner();
        etag = added.etag;
    }
    let before = server.terminate();
    assert!(before.success(), "{before:?}");

    let intake_db = Database::connect(databases.url(ServiceKind::Intake))
        .await
        .unwrap();
    let cases_db = Database::connect(databases.url(ServiceKind::CaseManagement))
        .await
        .unwrap();
    let values = (2 * ALLEGATIONS as i64, 2 * WITNESSES as i64);
    assert_eq!(sealed_with(&intake_db, &cases_db, "k1").await, values);

    // k2 current, k1 kept to open the old values; a long pause after each batch.
    let both = [("k1", K1), ("k2", K2)];
    let server = start(&databases, &environment(&databases, &both, "k2", 3_000));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = sealed_with(&intake_db, &cases_db, "k1").await;
        if left.0 < values.0 && left.1 < values.1 {
            break;
        }
        assert!(Instant::now() < deadline, "no re-sealing started: {left:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = server.kill9();
    assert!(!status.success(), "killed, not stopped: {status:?}");
    let left = sealed_with(&intake_db, &cases_db, "k1").await;
    assert!(
        0 < left.0 && left.0 < values.0 && 0 < left.1 && left.1 < values.1,
        "killed mid-rotation in both services: {left:?} of {values:?} left"
    );

    // Started again: the rotation goes on where it stopped and finishes.
    let server = start(&databases, &environment(&databases, &both, "k2", 0));
    let deadline = Instant::now() + Duration::from_secs(60);
    while sealed_with(&intake_db, &cases_db, "k1").await != (0, 0) {
        assert!(Instant::now() < deadline, "the rotation did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sealed_with(&intake_db, &cases_db, "k2").await, values);
    assert!(server.terminate().success());
    intake_db.close().await.unwrap();
    cases_db.close().await.unwrap();

    // k1 gone: the services start, and every identity opens under k2.
    let server = start(&databases, &environment(&databases, &[("k2", K2)], "k2", 0));
    let mut intake =
        IntakeServiceClient::with_interceptor(channel(server.intake()).await, officer.clone());
    let expected = allegation().source.unwrap();
    for id in &allegation_ids {
        let source = intake
            .get_allegation(pb::GetAllegationRequest { id: id.clone() })
            .await
            .unwrap()
            .into_inner()
            .allegation
            .unwrap()
            .source
            .unwrap();
        assert_eq!(
            (&source.name, &source.contact),
            (&expected.name, &expected.contact),
            "{id}"
        );
    }
    let prosecutor = Bearer::token(&server.token("prosecutor", "prosecutor.mammadov"));
    let persons = CaseServiceClient::with_interceptor(
        channel(&server.addresses["case-management"]).await,
        prosecutor,
    )
    .list_persons(cases::ListPersonsRequest {
        case_id: case.id.clone(),
        role: cases::PersonRole::Witness.into(),
        // Every witness on one page (the default page holds 50).
        page_size: 1_000,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .persons;
    assert_eq!(persons.len(), WITNESSES);
    for person in &persons {
        assert!(!person.redacted, "{person:?}");
        assert_eq!(
            (person.display_name.as_str(), person.contact.as_str()),
            (WITNESS, WITNESS_CONTACT)
        );
    }
    assert!(server.terminate().success());
}
