//! The situation of the seed article, end to end: cases against both parties (executions of
//! prisoners of war, defilement of bodies, shelling of civilians), their qualification, a
//! suspect in two cases, a protected witness, charges in absentia, and videos assessed as fake
//! or authentic.

use docket_e2e::{
    Backend, CaseClient, TestApp, case_message, field_violations, on_every_backend, snapshot,
};
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_proto::docket::audit::v1 as audit;
use docket_proto::docket::cases::v1 as pb;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use tonic::Code;

use super::{advance, casualties, get, open, qualify};

on_every_backend!(
    cases_against_both_parties_are_qualified_and_unknown_crimes_refused,
    a_suspect_stands_in_two_cases_and_is_charged_in_absentia,
    a_witness_identity_is_sealed_and_each_clear_read_audited,
    fake_and_authentic_videos_keep_their_assessment_history,
);

/// The case of an allegation about shelling in Ganja, delivered through intake.
async fn deliver(app: &TestApp, number: u32) -> pb::Case {
    docket_e2e::deliver(app, snapshot(number)).await.1
}

async fn cases_against_both_parties_are_qualified_and_unknown_crimes_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let mut prosecutor = app.cases_as(Role::Prosecutor).await;
    let executions = open(
        &mut investigator,
        case_message("Execution of prisoners of war", "AZ"),
    )
    .await;
    let defilement = open(
        &mut investigator,
        case_message("Defilement of bodies", "AM"),
    )
    .await;
    let shelling = deliver(&app, 1).await;

    let executions = qualify(&mut prosecutor, &executions, &["icc.8.2.a.i"]).await;
    let defilement = qualify(
        &mut prosecutor,
        &defilement,
        &["icc.8.2.b.xxi", "icc.8.2.a.ii"],
    )
    .await;
    let shelling = qualify(&mut prosecutor, &shelling, &["icc.8.2.b.i", "icc.8.2.b.ii"]).await;
    assert_eq!(executions.crime_type_codes, ["icc.8.2.a.i"]);
    assert_eq!(
        defilement.crime_type_codes,
        ["icc.8.2.a.ii", "icc.8.2.b.xxi"]
    );
    assert_eq!(shelling.crime_type_codes, ["icc.8.2.b.i", "icc.8.2.b.ii"]);

    let unknown = prosecutor
        .qualify_case(pb::QualifyCaseRequest {
            case_id: shelling.id.clone(),
            etag: shelling.etag.clone(),
            add_crime_type_codes: vec!["icc.8.2.b.iv".into(), "icc.8.2.c.i".into()],
            remove_crime_type_codes: vec!["genocide".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert_eq!(
        field_violations(&unknown),
        ["add_crime_type_codes[1]", "remove_crime_type_codes[0]"]
    );
    let dropped = prosecutor
        .qualify_case(pb::QualifyCaseRequest {
            case_id: shelling.id.clone(),
            etag: shelling.etag.clone(),
            add_crime_type_codes: vec!["icc.8.2.b.iv".into()],
            remove_crime_type_codes: vec!["icc.8.2.b.ii".into()],
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(dropped.crime_type_codes, ["icc.8.2.b.i", "icc.8.2.b.iv"]);
    // Investigators do not qualify: that is the prosecutor's act.
    let refused = investigator
        .qualify_case(pb::QualifyCaseRequest {
            case_id: dropped.id.clone(),
            etag: dropped.etag.clone(),
            add_crime_type_codes: vec!["icc.8.2.b.ii".into()],
            remove_crime_type_codes: Vec::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    // The taxonomy, with its elements of crime, is readable by every role.
    let crimes = app
        .cases_as(Role::PublicReporter)
        .await
        .list_crime_types(pb::ListCrimeTypesRequest {})
        .await
        .unwrap()
        .into_inner()
        .crime_types;
    assert_eq!(crimes.len(), 34);
    let wilful_killing = crimes.iter().find(|c| c.code == "icc.8.2.a.i").unwrap();
    assert_eq!(wilful_killing.title, "Wilful killing");
    assert!(wilful_killing.elements[0].contains("killed one or more persons"));

    // Both parties stand accused, the same way.
    let by_party = |party: &str| pb::ListCasesRequest {
        party_code: party.into(),
        ..Default::default()
    };
    let against_az = investigator
        .list_cases(by_party("AZ"))
        .await
        .unwrap()
        .into_inner();
    let against_am = investigator
        .list_cases(by_party("AM"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(against_az.cases.len(), 1);
    assert_eq!(against_am.cases.len(), 2);
    app.stop().await;
}

async fn add_suspect(cases: &mut CaseClient, case: &pb::Case, person: pb::Person) -> pb::Person {
    cases
        .add_person(pb::AddPersonRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            person: Some(person),
        })
        .await
        .unwrap()
        .into_inner()
        .person
        .unwrap()
}

async fn a_suspect_stands_in_two_cases_and_is_charged_in_absentia(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let mut prosecutor = app.cases_as(Role::Prosecutor).await;
    let first = deliver(&app, 10).await;
    let second = deliver(&app, 11).await;
    assert_eq!(casualties(&first) + casualties(&second), 6);

    let leader = add_suspect(
        &mut investigator,
        &first,
        pb::Person {
            role: pb::PersonRole::Suspect.into(),
            display_name: "Arayik Harutyunyan".into(),
            position: "President of the unrecognised Nagorno-Karabakh republic".into(),
            affiliation_party_code: "AM-NK".into(),
            mode_of_liability: pb::ModeOfLiability::CommandResponsibility.into(),
            ..Default::default()
        },
    )
    .await;
    assert!(!leader.id.is_empty());
    let again = add_suspect(
        &mut investigator,
        &second,
        pb::Person {
            id: leader.id.clone(),
            role: pb::PersonRole::Suspect.into(),
            affiliation_party_code: "AM-NK".into(),
            mode_of_liability: pb::ModeOfLiability::Ordering.into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(again.id, leader.id, "one person, one id, in every case");
    assert_eq!(again.display_name, "Arayik Harutyunyan");
    assert_eq!(again.mode_of_liability(), pb::ModeOfLiability::Ordering);
    let twice = investigator
        .add_person(pb::AddPersonRequest {
            case_id: second.id.clone(),
            etag: String::new(),
            person: Some(pb::Person {
                id: leader.id.clone(),
                role: pb::PersonRole::Victim.into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);
    // A victim records their side beside the suspects' party.
    let victim = investigator
        .add_person(pb::AddPersonRequest {
            case_id: second.id.clone(),
            etag: String::new(),
            person: Some(pb::Person {
                role: pb::PersonRole::Victim.into(),
                display_name: "Named in the shelling report".into(),
                affiliation_party_code: "AZ".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .person
        .unwrap();
    assert_eq!(victim.affiliation_party_code, "AZ");

    // Adding persons changed the case: work from its current etag.
    let first = get(&mut investigator, &first.id).await;
    let first = qualify(&mut prosecutor, &first, &["icc.8.2.b.i"]).await;
    let first = advance(
        &mut investigator,
        &first,
        pb::CaseStatus::UnderInvestigation,
    )
    .await;
    let charge = |crime: &str, person: &str| pb::FileChargeRequest {
        case_id: first.id.clone(),
        etag: String::new(),
        person_id: person.to_owned(),
        crime_type_code: crime.into(),
        in_absentia: true,
        filed_date: "2020-12-02".into(),
    };
    let not_qualified = prosecutor
        .file_charge(charge("icc.8.2.b.iv", &leader.id))
        .await
        .unwrap_err();
    assert_eq!(not_qualified.code(), Code::FailedPrecondition);
    assert!(
        not_qualified
            .message()
            .contains("not qualified with icc.8.2.b.iv")
    );
    let filed = prosecutor
        .file_charge(charge("icc.8.2.b.i", &leader.id))
        .await
        .unwrap()
        .into_inner();
    let charge = filed.charge.unwrap();
    assert!(charge.in_absentia);
    assert_eq!(charge.status(), pb::ChargeStatus::Filed);
    assert_eq!(charge.filed_date, "2020-12-02");
    assert_eq!(charge.filed_by, "prosecutor");

    let case = investigator
        .get_case(pb::GetCaseRequest {
            case_id: first.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(
        case.status(),
        pb::CaseStatus::ChargesFiled,
        "filing moved the case"
    );
    assert_eq!(case.etag, filed.etag);

    let warrant = prosecutor
        .update_charge_status(pb::UpdateChargeStatusRequest {
            case_id: first.id.clone(),
            etag: filed.etag.clone(),
            charge_id: charge.id.clone(),
            status: pb::ChargeStatus::WarrantIssued.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        warrant.charge.unwrap().status(),
        pb::ChargeStatus::WarrantIssued
    );
    let too_soon = prosecutor
        .update_charge_status(pb::UpdateChargeStatusRequest {
            case_id: first.id.clone(),
            etag: warrant.etag.clone(),
            charge_id: charge.id.clone(),
            status: pb::ChargeStatus::Convicted.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(too_soon.code(), Code::FailedPrecondition);
    assert!(
        too_soon.message().contains("confirmed, withdrawn"),
        "{}",
        too_soon.message()
    );
    // A crime type a live charge uses stays on the case.
    let case_now = get(&mut investigator, &first.id).await;
    let kept = prosecutor
        .qualify_case(pb::QualifyCaseRequest {
            case_id: first.id.clone(),
            etag: case_now.etag,
            add_crime_type_codes: Vec::new(),
            remove_crime_type_codes: vec!["icc.8.2.b.i".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(kept.code(), Code::FailedPrecondition);

    let charges = investigator
        .list_charges(pb::ListChargesRequest {
            case_id: first.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .charges;
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].person_id, leader.id);
    app.stop().await;
}

const WITNESS: &str = "Gulnara Aliyeva";

async fn a_witness_identity_is_sealed_and_each_clear_read_audited(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let case = open(
        &mut investigator,
        case_message("Execution of prisoners of war", "AZ"),
    )
    .await;
    let added = investigator
        .add_person(pb::AddPersonRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            person: Some(pb::Person {
                role: pb::PersonRole::Witness.into(),
                display_name: WITNESS.into(),
                contact: "+994 55 111 22 33".into(),
                pseudonym: "W-017".into(),
                protective_measures: vec![
                    pb::ProtectiveMeasure::Pseudonym.into(),
                    pb::ProtectiveMeasure::FaceAndVoiceDistortion.into(),
                ],
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(added.person.unwrap().display_name, WITNESS);

    let list = |role: Role| {
        let app = &app;
        let case_id = case.id.clone();
        async move {
            app.cases_as(role)
                .await
                .list_persons(pb::ListPersonsRequest {
                    case_id,
                    role: pb::PersonRole::Witness.into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .persons
        }
    };
    let seen = list(Role::Prosecutor).await;
    assert_eq!(seen[0].display_name, WITNESS);
    assert!(!seen[0].redacted);
    for role in [Role::Analyst, Role::Supervisor, Role::Service] {
        let hidden = list(role).await;
        assert!(hidden[0].redacted, "{role}");
        assert!(
            hidden[0].display_name.is_empty() && hidden[0].contact.is_empty(),
            "{role}"
        );
        assert_eq!(hidden[0].pseudonym, "W-017");
    }

    // The database holds no plaintext identity.
    let db = Database::connect(app.settings.database_url(ServiceKind::CaseManagement))
        .await
        .unwrap();
    let sql = if db.get_database_backend() == DbBackend::Postgres {
        "SELECT row_to_json(p)::text FROM persons p"
    } else {
        "SELECT json_object('name', display_name, 'contact', contact) FROM persons"
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    let row: String = rows[0].try_get_by_index(0).unwrap();
    assert!(!row.contains("Gulnara") && !row.contains("111 22"), "{row}");
    assert!(row.contains("v1:dev:"), "{row}");
    db.close().await.unwrap();

    // The prosecutor's clear read is in the audit log, and the chain holds.
    let mut auditor = app.audit_as(app.case_management_addr, Role::Auditor).await;
    let entries = auditor
        .list_audit_entries(audit::ListAuditEntriesRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(
        entries
            .iter()
            .any(|e| e.action == "read sealed witness identity" && e.role == "prosecutor"),
        "{entries:?}"
    );
    assert!(entries.iter().any(|e| e.action == "add person"));
    let verified = auditor
        .verify_audit_chain(audit::VerifyAuditChainRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(verified.intact);
    app.stop().await;
}

async fn fake_and_authentic_videos_keep_their_assessment_history(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let mut analyst = app.cases_as(Role::Analyst).await;
    let case = open(
        &mut investigator,
        case_message("Execution of prisoners of war", "AZ"),
    )
    .await;
    let fake = app.stored_evidence(b"a re-edited clip from 2016").await;
    let authentic = app.stored_evidence(b"the original recording").await;
    for (id, description) in [
        (
            &fake,
            "Video: execution of two prisoners, posted 2020-10-15",
        ),
        (
            &authentic,
            "Video: execution of two prisoners in Hadrut, posted 2020-10-16",
        ),
    ] {
        investigator
            .link_evidence(pb::LinkEvidenceRequest {
                case_id: case.id.clone(),
                etag: String::new(),
                evidence_id: id.clone(),
                description: description.into(),
                reason: String::new(),
            })
            .await
            .unwrap();
    }
    // Evidence intake does not hold cannot be linked: the id is checked with intake.
    let unknown = investigator
        .link_evidence(pb::LinkEvidenceRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            evidence_id: uuid::Uuid::now_v7().to_string(),
            description: "a video nobody uploaded".into(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let assess = |evidence: &str, verdict: pb::Verdict, method: pb::AssessmentMethod| {
        pb::RecordAssessmentRequest {
            case_id: case.id.clone(),
            etag: String::new(),
            assessment: Some(pb::Assessment {
                evidence_id: evidence.to_owned(),
                verdict: verdict.into(),
                method: method.into(),
                examiner: "Open-source investigations unit".into(),
                findings: "See the attached report.".into(),
                ..Default::default()
            }),
        }
    };
    use pb::AssessmentMethod::*;
    use pb::Verdict::*;
    for request in [
        assess(&fake, LikelyFabricated, Metadata),
        assess(&authentic, LikelyAuthentic, Geolocation),
        assess(&fake, FabricatedOrManipulated, ForensicMediaAnalysis),
        assess(&authentic, Authentic, Chronolocation),
    ] {
        analyst.record_assessment(request).await.unwrap();
    }
    let unlinked = analyst
        .record_assessment(assess(
            &uuid::Uuid::now_v7().to_string(),
            Inconclusive,
            Metadata,
        ))
        .await
        .unwrap_err();
    assert_eq!(unlinked.code(), Code::FailedPrecondition);

    let evidence = investigator
        .list_evidence(pb::ListEvidenceRequest {
            case_id: case.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    let standing: Vec<(String, pb::Verdict)> = evidence
        .iter()
        .map(|e| (e.evidence_id.clone(), e.standing()))
        .collect();
    assert_eq!(
        standing,
        [
            (fake.clone(), FabricatedOrManipulated),
            (authentic.clone(), Authentic)
        ]
    );
    let history = investigator
        .list_assessments(pb::ListAssessmentsRequest {
            case_id: case.id.clone(),
            evidence_id: fake.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assessments;
    let verdicts: Vec<pb::Verdict> = history.iter().map(|a| a.verdict()).collect();
    assert_eq!(verdicts, [LikelyFabricated, FabricatedOrManipulated]);
    assert!(history.iter().all(|a| a.recorded_by == "analyst"));
    app.stop().await;
}
