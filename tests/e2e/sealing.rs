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
    identities_are_clear_only_to_the_roles_that_need_them_and_each_clear_read_is_audited,
);

const NAME: &str = "Leyla Mammadova";
const CONTACT: &str = "+994 50 000 00 00";

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
