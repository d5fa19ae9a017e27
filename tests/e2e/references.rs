//! References wherever ids are taken: every call that takes an allegation id or a case id also
//! takes `ALG-2026-000004` or `CASE-2026-000004`, trimmed and in any letter case; an unknown
//! reference is NOT_FOUND and a malformed one INVALID_ARGUMENT naming the field.

use std::future::Future;
use std::pin::Pin;

use docket_e2e::{
    Backend, TestApp, accept, allegation, cases_of, field_violations, on_every_backend, submit,
};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as pb;
use tonic::{Code, Status};

on_every_backend!(
    every_call_taking_an_id_takes_a_reference,
    changes_are_made_through_references,
);

type Outcome = Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>;
type Call = Box<dyn Fn(String) -> Outcome>;

/// One entry of the table: `$client` cloned into a call of the value given as `$value`.
macro_rules! rpc {
    ($client:expr, |$c:ident, $value:ident| $body:expr) => {{
        let client = $client.clone();
        Box::new(move |$value: String| -> Outcome {
            let mut $c = client.clone();
            Box::pin(async move { $body.await.map(drop) })
        }) as Call
    }};
}

/// What each field takes: an allegation's reference or a case's.
#[derive(Clone, Copy)]
enum Of {
    Allegation,
    Case,
}

/// `reference` as staff might type it: lower case, with spaces around.
fn typed(reference: &str) -> String {
    format!("  {}\t", reference.to_lowercase())
}

async fn every_call_taking_an_id_takes_a_reference(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    let id = submit(&mut officer, allegation()).await;
    accept(&mut officer, &id).await;
    let case = cases_of(&mut app.cases().await, &id).await.remove(0);
    let alg = officer
        .get_allegation(pb::GetAllegationRequest { id: id.clone() })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
        .reference;
    let intake = officer.clone();
    let investigator = app.cases().await;
    let prosecutor = app.cases_as(Role::Prosecutor).await;
    let analyst = app.cases_as(Role::Analyst).await;

    use Of::*;
    let table: Vec<(&str, &str, Of, Call)> = vec![
        (
            "GetAllegation",
            "id",
            Allegation,
            rpc!(intake, |c, r| c
                .get_allegation(pb::GetAllegationRequest { id: r })),
        ),
        (
            "ListAllegationChanges",
            "id",
            Allegation,
            rpc!(intake, |c, r| c.list_allegation_changes(
                pb::ListAllegationChangesRequest {
                    id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "ListEvidence (intake)",
            "allegation_id",
            Allegation,
            rpc!(intake, |c, r| c.list_evidence(pb::ListEvidenceRequest {
                allegation_id: r,
                ..Default::default()
            })),
        ),
        (
            "ListSimilarAllegations",
            "allegation_id",
            Allegation,
            rpc!(intake, |c, r| c.list_similar_allegations(
                pb::ListSimilarAllegationsRequest {
                    allegation_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "ListCases",
            "allegation_id",
            Allegation,
            rpc!(investigator, |c, r| c.list_cases(cases::ListCasesRequest {
                allegation_id: r,
                ..Default::default()
            })),
        ),
        (
            "GetCase",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c
                .get_case(cases::GetCaseRequest { case_id: r })),
        ),
        (
            "GetCaseDossier",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.get_case_dossier(
                cases::GetCaseDossierRequest { case_id: r }
            )),
        ),
        (
            "ListCaseHistory",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.list_case_history(
                cases::ListCaseHistoryRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "ListCaseChanges",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.list_case_changes(
                cases::ListCaseChangesRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "ListPersons",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.list_persons(
                cases::ListPersonsRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "ListCharges",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.list_charges(
                cases::ListChargesRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "ListEvidence (cases)",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.list_evidence(
                cases::ListEvidenceRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "ListAssessments",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.list_assessments(
                cases::ListAssessmentsRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
    ];
    // Calls that change something: only the refusals are read here (the changes themselves are
    // made in `changes_are_made_through_references`). A reference is resolved before anything
    // else is looked at, so an unknown one is NOT_FOUND whatever the rest says.
    let refusals_only: Vec<(&str, &str, Of, Call)> = vec![
        (
            "StartReview",
            "id",
            Allegation,
            rpc!(intake, |c, r| c
                .start_review(pb::StartReviewRequest { id: r })),
        ),
        (
            "AcceptAllegation",
            "id",
            Allegation,
            rpc!(intake, |c, r| c.accept_allegation(
                pb::AcceptAllegationRequest {
                    id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "RejectAllegation",
            "id",
            Allegation,
            rpc!(intake, |c, r| c.reject_allegation(
                pb::RejectAllegationRequest {
                    id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "MarkDuplicate",
            "duplicate_of_id",
            Allegation,
            rpc!(intake, |c, r| c.mark_duplicate(pb::MarkDuplicateRequest {
                duplicate_of_id: r,
                ..Default::default()
            })),
        ),
        (
            "UpdateAllegation",
            "id",
            Allegation,
            rpc!(intake, |c, r| c.update_allegation(
                pb::UpdateAllegationRequest {
                    id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "ReopenAllegation",
            "id",
            Allegation,
            rpc!(intake, |c, r| c.reopen_allegation(
                pb::ReopenAllegationRequest {
                    id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "StartUpload",
            "metadata.allegation_id",
            Allegation,
            rpc!(intake, |c, r| c.start_upload(pb::StartUploadRequest {
                metadata: Some(pb::EvidenceMetadata {
                    allegation_id: r,
                    ..Default::default()
                })
            })),
        ),
        (
            "UpdateCase",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.update_case(
                cases::UpdateCaseRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "TransitionCase",
            "merged_into_case_id",
            Case,
            rpc!(investigator, |c, r| c.transition_case(
                cases::TransitionCaseRequest {
                    merged_into_case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "QualifyCase",
            "case_id",
            Case,
            rpc!(prosecutor, |c, r| c.qualify_case(
                cases::QualifyCaseRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "AddPerson",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.add_person(cases::AddPersonRequest {
                case_id: r,
                ..Default::default()
            })),
        ),
        (
            "UpdatePerson",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.update_person(
                cases::UpdatePersonRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "RemovePerson",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.remove_person(
                cases::RemovePersonRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "FileCharge",
            "case_id",
            Case,
            rpc!(prosecutor, |c, r| c.file_charge(cases::FileChargeRequest {
                case_id: r,
                ..Default::default()
            })),
        ),
        (
            "UpdateChargeStatus",
            "case_id",
            Case,
            rpc!(prosecutor, |c, r| c.update_charge_status(
                cases::UpdateChargeStatusRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "LinkEvidence",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.link_evidence(
                cases::LinkEvidenceRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "UnlinkEvidence",
            "case_id",
            Case,
            rpc!(investigator, |c, r| c.unlink_evidence(
                cases::UnlinkEvidenceRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
        (
            "RecordAssessment",
            "case_id",
            Case,
            rpc!(analyst, |c, r| c.record_assessment(
                cases::RecordAssessmentRequest {
                    case_id: r,
                    ..Default::default()
                }
            )),
        ),
    ];

    for (name, _, of, call) in &table {
        let reference = match of {
            Allegation => &alg,
            Case => &case.reference,
        };
        if let Err(status) = call(typed(reference)).await {
            panic!("{name} refused the reference {reference}: {status:?}");
        }
    }
    for (name, field, of, call) in table.iter().chain(&refusals_only) {
        let (unknown, malformed) = match of {
            Allegation => ("ALG-2099-999999", "ALG-2026-12"),
            Case => ("CASE-2099-999999", "case-2026-x"),
        };
        let status = call(unknown.to_owned()).await.unwrap_err();
        assert_eq!(
            status.code(),
            Code::NotFound,
            "{name} with {unknown}: {status:?}"
        );
        let status = call(malformed.to_owned()).await.unwrap_err();
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{name} with {malformed}"
        );
        assert!(
            field_violations(&status).iter().any(|f| f == field),
            "{name}: {malformed} is a violation of {field}: {:?}",
            status
        );
    }
    // The search answers the same for the allegation's id and its reference.
    let similar = |value: String| {
        let mut intake = intake.clone();
        async move {
            intake
                .list_similar_allegations(pb::ListSimilarAllegationsRequest {
                    allegation_id: value,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .candidates
        }
    };
    assert_eq!(similar(id.clone()).await, similar(typed(&alg)).await);
    let by_reference = app
        .cases()
        .await
        .list_cases(cases::ListCasesRequest {
            allegation_id: typed(&alg),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .cases;
    assert_eq!(by_reference.len(), 1);
    assert_eq!(by_reference[0].id, case.id);
    app.stop().await;
}

async fn changes_are_made_through_references(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    let first = submit(&mut officer, allegation()).await;
    accept(&mut officer, &first).await;
    let case = cases_of(&mut app.cases().await, &first).await.remove(0);
    let reader = officer.clone();
    let reference_of = |id: String| {
        let mut officer = reader.clone();
        async move {
            officer
                .get_allegation(pb::GetAllegationRequest { id })
                .await
                .unwrap()
                .into_inner()
                .allegation
                .unwrap()
        }
    };
    let first_ref = reference_of(first.clone()).await.reference;

    // Intake: triage, correction, reopening, duplicates, uploads and joining a case.
    let second = reference_of(submit(&mut officer, allegation()).await).await;
    let reviewed = officer
        .start_review(pb::StartReviewRequest {
            id: typed(&second.reference),
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(reviewed.status(), pb::AllegationStatus::UnderReview);
    let corrected = officer
        .update_allegation(pb::UpdateAllegationRequest {
            id: typed(&second.reference),
            etag: reviewed.etag.clone(),
            allegation: Some(pb::Allegation {
                narrative: "Rockets hit Shahriyar street at 02:00, as a neighbour confirmed."
                    .into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["narrative".into()],
            }),
            reason: "The neighbour called back.".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(corrected.id, second.id);
    officer
        .reject_allegation(pb::RejectAllegationRequest {
            id: typed(&second.reference),
            reason: "Outside the office's mandate.".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    officer
        .reopen_allegation(pb::ReopenAllegationRequest {
            id: typed(&second.reference),
            reason: "The mandate covers it after all.".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let duplicate = officer
        .mark_duplicate(pb::MarkDuplicateRequest {
            id: typed(&second.reference),
            duplicate_of_id: typed(&first_ref),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(duplicate.duplicate_of_id, first);
    let third = reference_of(submit(&mut officer, allegation()).await).await;
    let joined = officer
        .accept_allegation(pb::AcceptAllegationRequest {
            id: typed(&third.reference),
            join_case_id: typed(&case.reference),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap();
    assert_eq!(joined.joined_case_id, case.id);
    // The case changes when the joining allegation reaches it: wait for that before reading it.
    let holding = cases_of(&mut app.cases().await, &third.id).await;
    assert_eq!(holding[0].id, case.id);
    let upload = officer
        .upload_evidence(tokio_stream::iter([
            pb::UploadEvidenceRequest {
                payload: Some(pb::upload_evidence_request::Payload::Metadata(
                    pb::EvidenceMetadata {
                        allegation_id: typed(&first_ref),
                        file_name: "clip.mp4".into(),
                        collected_time: Some(prost_types::Timestamp {
                            seconds: 1_603_000_000,
                            nanos: 0,
                        }),
                        collected_by: "analyst.petrosyan".into(),
                        collection_method: pb::CollectionMethod::PlatformDownload.into(),
                        ..Default::default()
                    },
                )),
            },
            pb::UploadEvidenceRequest {
                payload: Some(pb::upload_evidence_request::Payload::Chunk(
                    b"a clip uploaded by reference".to_vec().into(),
                )),
            },
        ]))
        .await
        .unwrap()
        .into_inner()
        .evidence
        .unwrap();
    assert_eq!(upload.allegation_id, first);

    // Case management: every change through the case's reference.
    let case_ref = typed(&case.reference);
    let mut investigator = app.cases().await;
    let mut prosecutor = app.cases_as(Role::Prosecutor).await;
    let etag = |c: cases::Case| c.etag;
    let now = investigator
        .get_case(cases::GetCaseRequest {
            case_id: case_ref.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let qualified = prosecutor
        .qualify_case(cases::QualifyCaseRequest {
            case_id: case_ref.clone(),
            etag: etag(now),
            add_crime_type_codes: vec!["icc.8.2.b.i".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let updated = investigator
        .update_case(cases::UpdateCaseRequest {
            case_id: case_ref.clone(),
            etag: qualified.etag,
            r#case: Some(cases::Case {
                title: "Shelling of Shahriyar street".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["title".into()],
            }),
            reason: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let moved = investigator
        .transition_case(cases::TransitionCaseRequest {
            case_id: case_ref.clone(),
            etag: updated.etag,
            target_status: cases::CaseStatus::UnderInvestigation.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(moved.id, case.id);
    let suspect = investigator
        .add_person(cases::AddPersonRequest {
            case_id: case_ref.clone(),
            person: Some(cases::Person {
                display_name: "Commander A".into(),
                role: cases::PersonRole::Suspect.into(),
                position: "Commander".into(),
                affiliation_party_code: "AM".into(),
                mode_of_liability: cases::ModeOfLiability::Ordering.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .person
        .unwrap();
    investigator
        .update_person(cases::UpdatePersonRequest {
            case_id: case_ref.clone(),
            person: Some(cases::Person {
                id: suspect.id.clone(),
                role: cases::PersonRole::Suspect.into(),
                position: "Battalion commander".into(),
                affiliation_party_code: "AM".into(),
                mode_of_liability: cases::ModeOfLiability::Ordering.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let charge = prosecutor
        .file_charge(cases::FileChargeRequest {
            case_id: case_ref.clone(),
            person_id: suspect.id.clone(),
            crime_type_code: "icc.8.2.b.i".into(),
            filed_date: "2021-03-01".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .charge
        .unwrap();
    prosecutor
        .update_charge_status(cases::UpdateChargeStatusRequest {
            case_id: case_ref.clone(),
            charge_id: charge.id,
            status: cases::ChargeStatus::WarrantIssued.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    investigator
        .link_evidence(cases::LinkEvidenceRequest {
            case_id: case_ref.clone(),
            evidence_id: upload.id.clone(),
            description: "Video of the strike".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    app.cases_as(Role::Analyst)
        .await
        .record_assessment(cases::RecordAssessmentRequest {
            case_id: case_ref.clone(),
            assessment: Some(cases::Assessment {
                evidence_id: upload.id.clone(),
                verdict: cases::Verdict::LikelyAuthentic.into(),
                method: cases::AssessmentMethod::Geolocation.into(),
                examiner: "Open-source investigations unit".into(),
                findings: "Matches the street.".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    investigator
        .unlink_evidence(cases::UnlinkEvidenceRequest {
            case_id: case_ref.clone(),
            evidence_id: upload.id.clone(),
            reason: "Linked to the wrong case.".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let witness = investigator
        .add_person(cases::AddPersonRequest {
            case_id: case_ref.clone(),
            person: Some(cases::Person {
                display_name: "A neighbour".into(),
                role: cases::PersonRole::Witness.into(),
                pseudonym: "W-1".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .person
        .unwrap();
    investigator
        .remove_person(cases::RemovePersonRequest {
            case_id: case_ref.clone(),
            person_id: witness.id,
            reason: "Added twice.".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let other = investigator
        .open_case(cases::OpenCaseRequest {
            r#case: Some(docket_e2e::case_message("Another case", "AM")),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let merged = investigator
        .transition_case(cases::TransitionCaseRequest {
            case_id: typed(&other.reference),
            etag: other.etag,
            target_status: cases::CaseStatus::Closed.into(),
            reason: cases::CloseReason::Merged.into(),
            merged_into_case_id: case_ref.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(merged.merged_into_case_id, case.id);
    let changes = investigator
        .list_case_changes(cases::ListCaseChangesRequest {
            case_id: case_ref,
            page_size: 1_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .changes;
    assert!(changes.len() >= 9, "{} changes", changes.len());
    app.stop().await;
}
