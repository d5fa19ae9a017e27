//! Taking persons and evidence out of a case, each with a reason kept in the case's history with
//! who and when; every change of a case readable field by field, a case older than the history
//! included.

use docket_e2e::{Backend, CaseClient, TestApp, case_message, on_every_backend};
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::events::v1 as ev;
use sea_orm::{ConnectionTrait, Database};
use tonic::Code;

use super::{case as get, case_changes, field, names};

on_every_backend!(
    a_person_removed_and_evidence_unlinked_leave_their_reasons_in_the_history,
    a_case_changed_before_its_history_was_kept_starts_it_with_its_fields_as_they_were,
);

async fn open(cases: &mut CaseClient, case: pb::Case) -> pb::Case {
    cases
        .open_case(pb::OpenCaseRequest { r#case: Some(case) })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap()
}

async fn add(cases: &mut CaseClient, case_id: &str, person: pb::Person) -> pb::Person {
    cases
        .add_person(pb::AddPersonRequest {
            case_id: case_id.to_owned(),
            etag: String::new(),
            person: Some(person),
        })
        .await
        .unwrap()
        .into_inner()
        .person
        .unwrap()
}

/// The snapshots of case `id` that case management has published, in order.
async fn snapshots(app: &TestApp, id: &str) -> Vec<ev::CaseChanged> {
    let mut events = app
        .events_as(app.case_management_addr, Role::Supervisor)
        .await
        .stream_events(ev::StreamEventsRequest {
            after_sequence: 0,
            follow: false,
        })
        .await
        .unwrap()
        .into_inner();
    let mut found = Vec::new();
    while let Some(message) = events.message().await.unwrap() {
        let kind = message.event.and_then(|e| e.payload).and_then(|p| p.kind);
        if let Some(ev::event_payload::Kind::CaseChanged(c)) = kind
            && c.case_id == id
        {
            found.push(c);
        }
    }
    found
}

async fn a_person_removed_and_evidence_unlinked_leave_their_reasons_in_the_history(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let case = open(
        &mut investigator,
        case_message("Execution of prisoners of war", "AZ"),
    )
    .await;
    let victim = add(
        &mut investigator,
        &case.id,
        pb::Person {
            role: pb::PersonRole::Victim.into(),
            display_name: "Named in the first report".into(),
            ..Default::default()
        },
    )
    .await;
    let witness = add(
        &mut investigator,
        &case.id,
        pb::Person {
            role: pb::PersonRole::Witness.into(),
            display_name: "Saw it from the roof".into(),
            pseudonym: "W-017".into(),
            protective_measures: vec![pb::ProtectiveMeasure::Pseudonym.into()],
            ..Default::default()
        },
    )
    .await;
    let video = app.stored_evidence(b"a video of the execution").await;
    investigator
        .link_evidence(pb::LinkEvidenceRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            evidence_id: video.clone(),
            description: "Video: execution of two prisoners".into(),
            reason: String::new(),
        })
        .await
        .unwrap();
    app.cases_as(Role::Analyst)
        .await
        .record_assessment(pb::RecordAssessmentRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            assessment: Some(pb::Assessment {
                evidence_id: video.clone(),
                verdict: pb::Verdict::FabricatedOrManipulated.into(),
                method: pb::AssessmentMethod::ForensicMediaAnalysis.into(),
                examiner: "Forensic laboratory".into(),
                findings: "Spliced from two recordings.".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let before = get(&mut investigator, &case.id).await;
    let published = snapshots(&app, &case.id).await.len();

    // A stale etag is refused, and removes no one.
    let stale = investigator
        .remove_person(pb::RemovePersonRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            person_id: victim.id.clone(),
            reason: "Not a victim of this incident.".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    let removed = investigator
        .remove_person(pb::RemovePersonRequest {
            case_id: case.id.clone(),
            etag: before.etag.clone(),
            person_id: victim.id.clone(),
            reason: "Not a victim of this incident: he survived, in another village.".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let persons = investigator
        .list_persons(pb::ListPersonsRequest {
            case_id: case.id.clone(),
            role: 0,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .persons;
    let ids: Vec<&str> = persons.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [witness.id.as_str()]);
    let absent = investigator
        .remove_person(pb::RemovePersonRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            person_id: victim.id.clone(),
            reason: "Again.".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(absent.code(), Code::NotFound, "{absent:?}");

    // Unlinked: gone from the case's evidence, its assessment kept, no new one taken.
    investigator
        .unlink_evidence(pb::UnlinkEvidenceRequest {
            case_id: case.id.clone(),
            etag: removed.etag.clone(),
            evidence_id: video.clone(),
            reason: "Judged fabricated; it proves nothing in this case.".into(),
        })
        .await
        .unwrap();
    let evidence = |mut cases: CaseClient| {
        let case_id = case.id.clone();
        async move {
            cases
                .list_evidence(pb::ListEvidenceRequest {
                    case_id,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .evidence
        }
    };
    assert!(evidence(investigator.clone()).await.is_empty());
    let mut analyst = app.cases_as(Role::Analyst).await;
    let assessments = analyst
        .list_assessments(pb::ListAssessmentsRequest {
            case_id: case.id.clone(),
            evidence_id: String::new(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assessments;
    assert_eq!(assessments.len(), 1, "an unlinked item's findings stay");
    let refused = analyst
        .record_assessment(pb::RecordAssessmentRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            assessment: Some(pb::Assessment {
                evidence_id: video.clone(),
                verdict: pb::Verdict::Inconclusive.into(),
                method: pb::AssessmentMethod::Metadata.into(),
                examiner: "Second look".into(),
                findings: "Nothing more.".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");

    // The history: who, when, why, and what each took away; the witness by role and pseudonym,
    // never by name.
    let changes = case_changes(&mut investigator, &case.id).await;
    let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "open case",
            "add person",
            "add person",
            "link evidence",
            "record assessment",
            "remove person",
            "unlink evidence"
        ]
    );
    let opening = &changes[0];
    assert_eq!(
        field(opening, "title").new_value,
        "Execution of prisoners of war"
    );
    assert!(field(opening, "title").old_value.is_empty());
    let removal = &changes[5];
    assert_eq!(removal.changed_by, "investigator.mammadov");
    assert_eq!(
        removal.reason,
        "Not a victim of this incident: he survived, in another village."
    );
    let person_field = format!("persons[{}]", victim.id);
    assert_eq!(names(removal), [person_field.as_str()]);
    assert_eq!(field(removal, &person_field).old_value, "victim");
    assert!(field(removal, &person_field).new_value.is_empty());
    let unlinking = &changes[6];
    assert_eq!(
        unlinking.reason,
        "Judged fabricated; it proves nothing in this case."
    );
    let item = field(unlinking, &format!("evidence[{video}]"));
    assert_eq!(item.old_value, "Video: execution of two prisoners");
    assert!(item.new_value.is_empty());
    let witness_field = field(&changes[2], &format!("persons[{}]", witness.id));
    assert_eq!(
        witness_field.new_value,
        "witness, pseudonym W-017, protective measures pseudonym"
    );
    let seen = format!("{changes:?}");
    for name in ["Saw it from the roof", "Named in the first report"] {
        assert!(!seen.contains(name), "the history holds a name: {name}");
    }

    // Each reached reporting's stream as a new snapshot of the case.
    assert_eq!(snapshots(&app, &case.id).await.len(), published + 2);

    // Linked again, the item is back; an update's reason is kept too.
    investigator
        .link_evidence(pb::LinkEvidenceRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            evidence_id: video.clone(),
            description: "Video: the fabricated execution, as propaganda".into(),
            reason: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(evidence(investigator.clone()).await.len(), 1);
    let now = get(&mut investigator, &case.id).await;
    investigator
        .update_case(pb::UpdateCaseRequest {
            case_id: case.id.clone(),
            etag: now.etag.clone(),
            r#case: Some(pb::Case {
                title: "Fabricated execution video".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["title".into()],
            }),
            reason: "The video was found to be staged.".into(),
        })
        .await
        .unwrap();
    let changes = case_changes(&mut investigator, &case.id).await;
    let update = changes.last().unwrap();
    assert_eq!(update.action, "update case");
    assert_eq!(update.reason, "The video was found to be staged.");
    assert_eq!(names(update), ["title"]);
    assert_eq!(
        field(update, "title").old_value,
        "Execution of prisoners of war"
    );
    app.stop().await;
}

async fn a_case_changed_before_its_history_was_kept_starts_it_with_its_fields_as_they_were(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let case = open(
        &mut investigator,
        case_message("Defilement of bodies", "AM"),
    )
    .await;
    // As a database migrated from a version that kept no field history holds it.
    let db = Database::connect(app.settings.database_url(ServiceKind::CaseManagement))
        .await
        .unwrap();
    for table in ["case_field_changes", "case_changes", "case_fields"] {
        db.execute_unprepared(&format!("DELETE FROM {table}"))
            .await
            .unwrap();
    }
    db.close().await.unwrap();

    investigator
        .transition_case(pb::TransitionCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            target_status: pb::CaseStatus::UnderInvestigation.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let changes = case_changes(&mut investigator, &case.id).await;
    let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, ["history begins", "transition case"]);
    let begins = &changes[0];
    assert_eq!(field(begins, "status").new_value, "open");
    assert_eq!(field(begins, "title").new_value, "Defilement of bodies");
    assert_eq!(names(&changes[1]), ["status"]);
    assert_eq!(field(&changes[1], "status").old_value, "open");
    assert_eq!(
        field(&changes[1], "status").new_value,
        "under_investigation"
    );
    app.stop().await;
}
