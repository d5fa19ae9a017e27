//! Evidence gathered during an investigation, registered directly to a case (issue 15, item 5):
//! no allegation, a case that case management vouches for before a byte is kept, the
//! registration first in the item's chain of custody, and the item in the case's own evidence
//! list and dossier once intake's outbox has delivered it. An office's existing evidence keeps
//! its allegation through the migration that makes this possible.

use std::time::Duration;

use docket_e2e::{
    Backend, IntakeClient, TestApp, case_message, field_violations, on_every_backend,
};
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;
use tonic::Code;
use uuid::Uuid;

use crate::evidence::{metadata, sha256, upload};

on_every_backend!(
    a_file_registered_to_a_case_is_in_its_evidence_dossier_and_custody_report,
    a_case_that_is_unknown_closed_or_named_with_an_allegation_keeps_nothing,
    a_case_cannot_be_checked_while_case_management_is_down,
    existing_evidence_keeps_its_allegation_through_the_migration,
);

/// Metadata of a file registered to case `case_id` (an id or a reference), no allegation.
fn to_case(case_id: &str, bytes: &[u8]) -> pb::EvidenceMetadata {
    pb::EvidenceMetadata {
        allegation_id: String::new(),
        case_id: case_id.to_owned(),
        file_name: "site-survey-drone.mp4".into(),
        collected_by: "investigator.mammadov".into(),
        collection_method: pb::CollectionMethod::OfficeRecording.into(),
        ..metadata("", &sha256(bytes))
    }
}

async fn open_case(app: &TestApp, title: &str) -> cases::Case {
    app.cases()
        .await
        .open_case(cases::OpenCaseRequest {
            r#case: Some(case_message(title, "AZ")),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap()
}

async fn custody_kinds(intake: &mut IntakeClient, id: &str) -> Vec<pb::CustodyEvent> {
    intake
        .list_custody_events(pb::ListCustodyEventsRequest {
            evidence_id: id.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events
}

/// The items of case `case_id` in case management, once `expected` are there (or after 20 s).
async fn case_evidence(
    app: &TestApp,
    case_id: &str,
    expected: usize,
) -> Vec<cases::LinkedEvidence> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let items = app
            .cases()
            .await
            .list_evidence(cases::ListEvidenceRequest {
                case_id: case_id.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .evidence;
        if items.len() >= expected || tokio::time::Instant::now() > deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_file_registered_to_a_case_is_in_its_evidence_dossier_and_custody_report(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let case = open_case(&app, "Shelling of the school in Tartar").await;
    let bytes = b"drone footage of the school, taken by the office".to_vec();
    let mut officer = app.intake().await;
    // By its reference, as staff speak, in any letter case.
    let reference = format!("  {}", case.reference.to_lowercase());
    let answer = upload(&mut officer, to_case(&reference, &bytes), &bytes, 7)
        .await
        .unwrap();
    let evidence = answer.evidence.unwrap();
    assert_eq!(evidence.case_id, case.id);
    assert_eq!(evidence.allegation_id, "", "it came with no allegation");
    let held = officer
        .get_evidence(pb::GetEvidenceRequest {
            evidence_id: evidence.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
        .unwrap();
    assert_eq!(held.case_id, case.id);

    // Its chain of custody says so from the start.
    let mut auditor = app.intake_as(Role::Auditor).await;
    let events = custody_kinds(&mut auditor, &evidence.id).await;
    let kinds: Vec<_> = events.iter().map(pb::CustodyEvent::kind).collect();
    assert_eq!(
        kinds,
        [
            pb::CustodyEventKind::Collected,
            pb::CustodyEventKind::Uploaded,
            pb::CustodyEventKind::RegisteredToCase,
        ]
    );
    let registered = &events[2];
    assert_eq!(registered.case_id, case.id);
    assert_eq!(registered.actor, "officer.aliyev");
    assert_eq!(registered.occurred_time, evidence.uploaded_time);
    assert!(
        registered.note.contains(&case.reference),
        "{}",
        registered.note
    );

    // Intake lists it by the case it was registered to.
    let listed = auditor
        .list_evidence(pb::ListEvidenceRequest {
            case_id: case.reference.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert_eq!(
        listed.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [evidence.id.as_str()]
    );

    // Case management links it once intake's outbox has delivered it, made by the uploader.
    let items = case_evidence(&app, &case.id, 1).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].evidence_id, evidence.id);
    assert_eq!(items[0].linked_by, "officer.aliyev");
    assert!(
        items[0].description.contains("site-survey-drone.mp4"),
        "{}",
        items[0].description
    );
    let dossier = app
        .cases()
        .await
        .get_case_dossier(cases::GetCaseDossierRequest {
            case_id: case.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dossier.evidence.len(), 1);
    let item = &dossier.evidence[0];
    assert_eq!(item.record.as_ref().unwrap().case_id, case.id);
    assert!(
        item.custody
            .iter()
            .any(|e| e.kind() == pb::CustodyEventKind::RegisteredToCase && e.case_id == case.id),
        "{:?}",
        item.custody
    );

    // A repeated delivery links nothing more; a delivery naming another case is refused.
    let mut service = app.cases_as(Role::Service).await;
    let again = service
        .receive_evidence(cases::ReceiveEvidenceRequest {
            evidence_id: evidence.id.clone(),
            case_id: case.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!again.created);
    let other = open_case(&app, "Another case").await;
    let refused = service
        .receive_evidence(cases::ReceiveEvidenceRequest {
            evidence_id: evidence.id.clone(),
            case_id: other.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(case_evidence(&app, &other.id, 0).await.is_empty());
    assert_eq!(case_evidence(&app, &case.id, 1).await.len(), 1);
    // The registration stands for the link: no LINKED_TO_CASE event follows it.
    let events = custody_kinds(&mut auditor, &evidence.id).await;
    assert_eq!(events.len(), 3, "{events:?}");

    // The custody report reads the same.
    let mut prosecutor = app.intake_as(Role::Prosecutor).await;
    let exported = prosecutor
        .export_custody_report(pb::ExportCustodyReportRequest {
            evidence_id: evidence.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let verified =
        docket_platform::signed_file::verify(&exported.report, Some(&exported.public_key)).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&verified.document).unwrap();
    assert_eq!(report["evidence"]["case_id"], case.id.as_str());
    assert_eq!(report["evidence"]["allegation_id"], "");
    let kinds: Vec<&str> = report["custody_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "CUSTODY_EVENT_KIND_COLLECTED",
            "CUSTODY_EVENT_KIND_UPLOADED",
            "CUSTODY_EVENT_KIND_REGISTERED_TO_CASE",
        ]
    );
    assert_eq!(report["cases"][0]["case_id"], case.id.as_str());
    assert_eq!(report["cases"][0]["linked_now"], true);

    // The resumable upload takes a case the same way.
    let big = vec![7_u8; 3000];
    let upload_id = officer
        .start_upload(pb::StartUploadRequest {
            metadata: Some(pb::EvidenceMetadata {
                declared_size_bytes: 3000,
                ..to_case(&case.id, &big)
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .upload_id;
    let written = officer
        .write_upload(tokio_stream::iter([pb::WriteUploadRequest {
            upload_id,
            offset: 0,
            chunk: big.into(),
        }]))
        .await
        .unwrap()
        .into_inner();
    let second = written.completed.unwrap().evidence.unwrap();
    assert_eq!(second.case_id, case.id);
    let items = case_evidence(&app, &case.id, 2).await;
    assert_eq!(items.len(), 2, "{items:?}");
    app.stop().await;
}

async fn a_case_that_is_unknown_closed_or_named_with_an_allegation_keeps_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    let bytes = b"a file that must not be kept".to_vec();
    let allegation = crate::evidence::new_allegation(&mut officer).await;
    let open = open_case(&app, "Open case").await;
    let closed = open_case(&app, "Closed case").await;
    app.cases()
        .await
        .transition_case(cases::TransitionCaseRequest {
            case_id: closed.id.clone(),
            etag: closed.etag.clone(),
            target_status: cases::CaseStatus::Closed.into(),
            reason: cases::CloseReason::InsufficientEvidence.into(),
            ..Default::default()
        })
        .await
        .unwrap();

    let unknown = upload(
        &mut officer,
        to_case(&Uuid::now_v7().to_string(), &bytes),
        &bytes,
        5,
    )
    .await
    .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    let unknown_reference = upload(&mut officer, to_case("CASE-2026-999999", &bytes), &bytes, 5)
        .await
        .unwrap_err();
    assert_eq!(unknown_reference.code(), Code::NotFound);
    let refused = upload(&mut officer, to_case(&closed.reference, &bytes), &bytes, 5)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains(&closed.reference), "{refused:?}");
    let both = upload(
        &mut officer,
        pb::EvidenceMetadata {
            allegation_id: allegation.clone(),
            ..to_case(&open.id, &bytes)
        },
        &bytes,
        5,
    )
    .await
    .unwrap_err();
    assert_eq!(both.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&both), ["metadata.case_id"]);
    let neither = upload(&mut officer, to_case("", &bytes), &bytes, 5)
        .await
        .unwrap_err();
    assert_eq!(neither.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&neither), ["metadata.allegation_id"]);
    // Both, one of them an unknown reference: refused for naming both, before any look-up.
    let both_unknown = upload(
        &mut officer,
        pb::EvidenceMetadata {
            allegation_id: allegation.clone(),
            ..to_case("CASE-2026-999999", &bytes)
        },
        &bytes,
        5,
    )
    .await
    .unwrap_err();
    assert_eq!(both_unknown.code(), Code::InvalidArgument);

    // The resumable upload refuses the same before a byte is sent.
    for (metadata, code) in [
        (to_case(&closed.id, &bytes), Code::FailedPrecondition),
        (to_case(&Uuid::now_v7().to_string(), &bytes), Code::NotFound),
        (
            pb::EvidenceMetadata {
                allegation_id: allegation.clone(),
                ..to_case(&open.id, &bytes)
            },
            Code::InvalidArgument,
        ),
        (to_case("", &bytes), Code::InvalidArgument),
    ] {
        let refused = officer
            .start_upload(pb::StartUploadRequest {
                metadata: Some(pb::EvidenceMetadata {
                    declared_size_bytes: i64::try_from(bytes.len()).unwrap(),
                    ..metadata
                }),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), code, "{refused:?}");
    }

    // Nothing was written: no record of these bytes, nothing in the open case.
    let kept = officer
        .list_evidence(pb::ListEvidenceRequest {
            sha256: sha256(&bytes),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert!(kept.is_empty(), "{kept:?}");
    assert!(case_evidence(&app, &open.id, 0).await.is_empty());
    app.stop().await;
}

async fn a_case_cannot_be_checked_while_case_management_is_down(backend: Backend) {
    let Some(mut app) = TestApp::spawn(backend).await else {
        return;
    };
    let case = open_case(&app, "Case of the checkpoint").await;
    let bytes = b"photographs of the checkpoint".to_vec();
    app.stop_case_management().await;
    let mut officer = app.intake().await;
    let down = upload(&mut officer, to_case(&case.id, &bytes), &bytes, 5)
        .await
        .unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    let kept = officer
        .list_evidence(pb::ListEvidenceRequest {
            sha256: sha256(&bytes),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert!(kept.is_empty(), "{kept:?}");
    app.start_case_management().await;
    let evidence = upload(&mut officer, to_case(&case.id, &bytes), &bytes, 5)
        .await
        .unwrap()
        .evidence
        .unwrap();
    let items = case_evidence(&app, &case.id, 1).await;
    assert_eq!(
        items
            .iter()
            .map(|i| i.evidence_id.as_str())
            .collect::<Vec<_>>(),
        [evidence.id.as_str()]
    );
    app.stop().await;
}

async fn existing_evidence_keeps_its_allegation_through_the_migration(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    let allegation = crate::evidence::new_allegation(&mut officer).await;
    let bytes = b"a video uploaded before cases could take evidence".to_vec();
    let original = upload(
        &mut officer,
        metadata(&allegation, &sha256(&bytes)),
        &bytes,
        9,
    )
    .await
    .unwrap()
    .evidence
    .unwrap();
    let copy_bytes = b"a still of that video".to_vec();
    let copy = upload(
        &mut officer,
        pb::EvidenceMetadata {
            derived_from_evidence_id: original.id.clone(),
            ..metadata(&allegation, &sha256(&copy_bytes))
        },
        &copy_bytes,
        9,
    )
    .await
    .unwrap()
    .evidence
    .unwrap();
    let mut auditor = app.intake_as(Role::Auditor).await;
    let custody_before = custody_kinds(&mut auditor, &original.id).await;
    let settings = app.settings.clone();
    let databases = app.stop().await;

    // The database as the version before this one left it: the evidence table of old.
    let url = databases.url(ServiceKind::Intake);
    let db = Database::connect(url.as_str()).await.unwrap();
    docket_intake::Migrator::down(&db, Some(1)).await.unwrap();
    assert!(
        !sea_orm_migration::SchemaManager::new(&db)
            .has_column("evidence", "case_id")
            .await
            .unwrap(),
        "the old shape has no case"
    );
    db.close().await.unwrap();

    // The migration runs as intake starts.
    let app = TestApp::start_on(databases, settings).await;
    let mut auditor = app.intake_as(Role::Auditor).await;
    for (id, derived_from) in [(&original.id, ""), (&copy.id, original.id.as_str())] {
        let held = auditor
            .get_evidence(pb::GetEvidenceRequest {
                evidence_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .evidence
            .unwrap();
        assert_eq!(held.allegation_id, allegation);
        assert_eq!(held.case_id, "");
        assert_eq!(held.derived_from_evidence_id, derived_from);
    }
    let listed = auditor
        .list_evidence(pb::ListEvidenceRequest {
            allegation_id: allegation.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert_eq!(
        listed.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [original.id.as_str(), copy.id.as_str()]
    );
    assert_eq!(
        custody_kinds(&mut auditor, &original.id).await,
        custody_before
    );

    // The rebuilt table holds its keys and its rule: every reference holds, a custody event of
    // no evidence and a record of neither an allegation nor a case are refused.
    let db = Database::connect(url.as_str()).await.unwrap();
    if db.get_database_backend() == DbBackend::Sqlite {
        let broken = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA foreign_key_check",
            ))
            .await
            .unwrap();
        assert!(broken.is_empty(), "{broken:?}");
    }
    let at = chrono::Utc::now();
    let mut orphan = Query::insert();
    orphan
        .into_table(Alias::new("custody_events"))
        .columns(
            [
                "id",
                "evidence_id",
                "kind",
                "actor",
                "occurred_at",
                "sha256",
                "note",
            ]
            .map(Alias::new),
        )
        .values_panic([
            Uuid::now_v7().into(),
            Uuid::now_v7().into(),
            "accessed".into(),
            "nobody".into(),
            at.into(),
            "00".into(),
            "".into(),
        ]);
    assert!(db.execute(&orphan).await.is_err(), "custody of no evidence");
    let mut ownerless = Query::insert();
    ownerless
        .into_table(Alias::new("evidence"))
        .columns(
            [
                "id",
                "sha256",
                "size_bytes",
                "file_name",
                "collected_at",
                "collected_by",
                "collection_method",
                "uploaded_by",
                "uploaded_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            Uuid::now_v7().into(),
            sha256(b"x").into(),
            1_i64.into(),
            "x".into(),
            at.into(),
            "nobody".into(),
            "other".into(),
            "nobody".into(),
            at.into(),
        ]);
    assert!(
        db.execute(&ownerless).await.is_err(),
        "a record of neither an allegation nor a case"
    );
    let mut unknown_allegation = Query::insert();
    unknown_allegation
        .into_table(Alias::new("evidence"))
        .columns(
            [
                "id",
                "allegation_id",
                "sha256",
                "size_bytes",
                "file_name",
                "collected_at",
                "collected_by",
                "collection_method",
                "uploaded_by",
                "uploaded_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            Uuid::now_v7().into(),
            Uuid::now_v7().into(),
            sha256(b"x").into(),
            1_i64.into(),
            "x".into(),
            at.into(),
            "nobody".into(),
            "other".into(),
            "nobody".into(),
            at.into(),
        ]);
    assert!(
        db.execute(&unknown_allegation).await.is_err(),
        "a record of an allegation intake does not hold"
    );
    db.close().await.unwrap();

    // And the office can now register to a case.
    let case = open_case(&app, "Case opened after the upgrade").await;
    let fresh = b"registered after the upgrade".to_vec();
    let mut officer = app.intake().await;
    let registered = upload(&mut officer, to_case(&case.id, &fresh), &fresh, 9)
        .await
        .unwrap()
        .evidence
        .unwrap();
    assert_eq!(registered.case_id, case.id);
    app.stop().await;
}
