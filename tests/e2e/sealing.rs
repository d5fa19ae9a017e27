//! Sealed source identities: never in the database in clear, shown only to the roles that need
//! them, and every clear read in the audit log.

use docket_e2e::{Backend, TestApp, allegation, on_every_backend, submit_request};
use docket_intake::Intake;
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_platform::grpc::HostOptions;
use docket_proto::docket::audit::v1 as audit;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

on_every_backend!(
    the_database_alone_reveals_no_identity,
    intake_refuses_to_start_without_the_key_that_sealed_its_sources_naming_it,
    a_rotation_killed_midway_completes_on_restart_and_the_old_key_can_go,
    identities_are_clear_only_to_the_roles_that_need_them_and_each_clear_read_is_audited,
);

const NAME: &str = "Leyla Mammadova";
const CONTACT: &str = "+994 50 000 00 00";

const K1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const K2: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const ROTATED: usize = 300;

/// Values intake still holds sealed with `key` (names and contacts).
async fn sealed_with(db: &sea_orm::DatabaseConnection, key: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT (SELECT COUNT(*) FROM allegations WHERE source_name LIKE 'v1:{key}:%') \
                 + (SELECT COUNT(*) FROM allegations WHERE source_contact LIKE 'v1:{key}:%')"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

/// Sealed with k1; k2 becomes current; intake re-seals in the background, is killed (each
/// batch in flight rolls back), starts again and finishes; then k1 is removed and every
/// identity still opens.
async fn a_rotation_killed_midway_completes_on_restart_and_the_old_key_can_go(backend: Backend) {
    let Some(mut app) = TestApp::spawn_with(backend, |settings| {
        settings.sealing.keys = [("k1".to_owned(), K1.to_owned())].into();
        settings.sealing.current_key_id = Some("k1".into());
    })
    .await
    else {
        return;
    };
    let mut intake = app.intake().await;
    let mut ids = Vec::new();
    for _ in 0..ROTATED {
        let stored = intake
            .submit_allegation(submit_request(allegation()))
            .await
            .unwrap();
        ids.push(stored.into_inner().allegation.unwrap().id);
    }
    let db = Database::connect(app.settings.database_url(ServiceKind::Intake))
        .await
        .unwrap();
    let values = 2 * ROTATED as i64;
    assert_eq!(sealed_with(&db, "k1").await, values);

    app.stop_intake().await;
    app.settings
        .sealing
        .keys
        .insert("k2".to_owned(), K2.to_owned());
    app.settings.sealing.current_key_id = Some("k2".into());
    let killed = app.start_replica(ServiceKind::Intake).await;
    // Killed as soon as the first batch has committed.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while sealed_with(&db, "k1").await == values {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no re-sealing started"
        );
        tokio::task::yield_now().await;
    }
    killed.kill().await;
    let left = sealed_with(&db, "k1").await;
    assert!(
        0 < left && left < values,
        "killed mid-rotation: {left} of {values} left"
    );

    let resumed = app.start_replica(ServiceKind::Intake).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while sealed_with(&db, "k1").await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rotation did not finish"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(sealed_with(&db, "k2").await, values);
    db.close().await.unwrap();
    resumed.stop().await;

    let mut settings = app.settings.clone();
    let databases = app.stop().await;
    settings.sealing.keys.remove("k1");
    let app = TestApp::start_on(databases, settings).await;
    let mut intake = app.intake().await;
    for id in [&ids[0], &ids[ROTATED / 2], &ids[ROTATED - 1]] {
        let answer = intake
            .get_allegation(pb::GetAllegationRequest { id: id.clone() })
            .await
            .unwrap();
        let source = answer.into_inner().allegation.unwrap().source.unwrap();
        assert_eq!(
            (source.name.as_str(), source.contact.as_str()),
            (NAME, CONTACT)
        );
    }
    app.stop().await;
}

/// A restore without the keys, or a development key generated anew in place of the lost one:
/// the service would answer with identities it can never open again, so it does not start, and
/// says which key it needs.
async fn intake_refuses_to_start_without_the_key_that_sealed_its_sources_naming_it(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.intake()
        .await
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap();
    let settings = app.settings.clone();
    let databases = app.stop().await;
    let start = |settings: docket_platform::Settings| async move {
        let options = HostOptions::from_settings(&settings).unwrap();
        Intake::start(&settings, options).await.map(|_| ())
    };

    let mut others = settings.clone();
    others.sealing.keys = [("k2".to_owned(), "22".repeat(32))].into();
    others.sealing.current_key_id = Some("k2".into());
    let refused = format!("{:#}", start(others).await.unwrap_err());
    assert!(
        refused.contains("allegations.source_name")
            && refused.contains("key \"dev\", which is not configured"),
        "{refused}"
    );

    std::fs::remove_file(settings.data_dir.join("sealing-dev.key")).unwrap();
    let refused = format!("{:#}", start(settings.clone()).await.unwrap_err());
    assert!(refused.contains("key \"dev\" does not open"), "{refused}");
    drop(databases);
}

async fn the_database_alone_reveals_no_identity(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let stored = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap();
    let source = stored.into_inner().allegation.unwrap().source.unwrap();
    assert_eq!(
        (source.name.as_str(), source.contact.as_str()),
        (NAME, CONTACT)
    );

    // Every column of every allegation row, as text.
    let db = Database::connect(app.settings.database_url(ServiceKind::Intake))
        .await
        .unwrap();
    let sql = if db.get_database_backend() == DbBackend::Postgres {
        "SELECT row_to_json(a)::text FROM allegations a"
    } else {
        "SELECT json_object('name', source_name, 'contact', source_contact, 'narrative', \
         narrative, 'place', place_name) FROM allegations"
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let row: String = rows[0].try_get_by_index(0).unwrap();
    assert!(row.contains("Shahriyar"), "the row was read: {row}");
    assert!(
        !row.contains("Leyla") && !row.contains("Mammadova"),
        "a name in clear: {row}"
    );
    assert!(!row.contains("50 000"), "a contact in clear: {row}");
    assert!(
        row.contains("v1:dev:"),
        "sealed values name their key: {row}"
    );
    db.close().await.unwrap();

    if backend == Backend::Sqlite {
        let stopped = app.stop().await;
        // And no file of the deployment holds them either (database, WAL, keys).
        for entry in std::fs::read_dir(stopped.data_dir()).unwrap() {
            // SQLite may remove its -wal and -shm files as the last connection closes.
            let Ok(bytes) = std::fs::read(entry.unwrap().path()) else {
                continue;
            };
            assert!(
                !bytes.windows(NAME.len()).any(|w| w == NAME.as_bytes()),
                "a file holds the name in clear"
            );
        }
    } else {
        app.stop().await;
    }
}

async fn identities_are_clear_only_to_the_roles_that_need_them_and_each_clear_read_is_audited(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    let stored = officer
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap();
    let id = stored.into_inner().allegation.unwrap().id;

    for role in Role::ALL {
        let Ok(answer) = app
            .intake_as(role)
            .await
            .get_allegation(pb::GetAllegationRequest { id: id.clone() })
            .await
        else {
            continue; // roles that may not read allegations at all
        };
        let source = answer.into_inner().allegation.unwrap().source.unwrap();
        if role.sees_sealed_identities() {
            assert_eq!(
                (source.name.as_str(), source.contact.as_str()),
                (NAME, CONTACT),
                "{role}"
            );
            assert!(!source.redacted);
        } else {
            assert!(
                source.name.is_empty() && source.contact.is_empty(),
                "{role} sees the identity"
            );
            assert!(source.redacted, "{role} is told the identity is sealed");
        }
    }
    // Listing redacts the same way.
    let listed = app
        .intake_as(Role::Analyst)
        .await
        .list_allegations(pb::ListAllegationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.allegations[0].source.as_ref().unwrap().redacted);

    let mut auditor = app.audit_as(app.intake_addr, Role::Auditor).await;
    let reads = auditor
        .list_audit_entries(audit::ListAuditEntriesRequest {
            target_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let readers: Vec<&str> = reads
        .iter()
        .filter(|e| e.action == "read sealed source identity")
        .map(|e| e.role.as_str())
        .collect();
    assert_eq!(readers, ["intake_officer", "investigator", "prosecutor"]);
    app.stop().await;
}
