//! Lists of a case's parts read a page at a time, `ListCases` filtered by person, assignee,
//! incident period, place, violation type, party and crime type, and a case's whole dossier in
//! one call.

use docket_e2e::{Backend, CaseClient, TestApp, case_message, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as intake;
use tonic::Code;

use super::{advance, open, qualify};

on_every_backend!(
    every_list_of_a_case_is_read_page_by_page,
    cases_are_filtered_by_person_assignee_period_place_and_violation,
    cases_are_filtered_by_party_and_crime_page_by_page,
    a_dossier_holds_the_case_and_everything_on_it,
);

fn at(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

/// Adds a suspect named `name` to `case_id`; returns the person.
async fn add_suspect(cases: &mut CaseClient, case_id: &str, name: &str) -> pb::Person {
    cases
        .add_person(pb::AddPersonRequest {
            case_id: case_id.to_owned(),
            etag: String::new(),
            person: Some(pb::Person {
                display_name: name.into(),
                role: pb::PersonRole::Suspect.into(),
                position: "Commander".into(),
                affiliation_party_code: "AZ".into(),
                mode_of_liability: pb::ModeOfLiability::CommandResponsibility.into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .person
        .unwrap()
}

/// Reads a whole list page by page, `page(token)` answering one page and its next token;
/// asserts every page but the last is full.
async fn read_all<T, F, Fut>(size: usize, mut page: F) -> (Vec<T>, usize)
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = (Vec<T>, String)>,
{
    let mut all = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let (items, next) = page(token).await;
        pages += 1;
        assert!(items.len() <= size);
        let last = next.is_empty();
        if !last {
            assert_eq!(items.len(), size, "a page before the last is full");
        }
        all.extend(items);
        if last {
            return (all, pages);
        }
        token = next;
        assert!(pages < 100, "paging does not end");
    }
}

async fn every_list_of_a_case_is_read_page_by_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let mut prosecutor = app.cases_as(Role::Prosecutor).await;
    let mut analyst = app.cases_as(Role::Analyst).await;
    let case = open(
        &mut investigator,
        case_message("Execution of prisoners", "AZ"),
    )
    .await;
    let case = qualify(&mut prosecutor, &case, &["icc.8.2.a.i"]).await;
    let case = advance(&mut investigator, &case, pb::CaseStatus::UnderInvestigation).await;
    let mut suspects = Vec::new();
    for n in 0..5 {
        suspects.push(add_suspect(&mut investigator, &case.id, &format!("Suspect {n}")).await);
    }
    for suspect in &suspects {
        prosecutor
            .file_charge(pb::FileChargeRequest {
                case_id: case.id.clone(),
                person_id: suspect.id.clone(),
                crime_type_code: "icc.8.2.a.i".into(),
                filed_date: "2021-03-01".into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let mut items = Vec::new();
    for n in 0..5 {
        let id = app.stored_evidence(format!("clip {n}").as_bytes()).await;
        investigator
            .link_evidence(pb::LinkEvidenceRequest {
                case_id: case.id.clone(),
                evidence_id: id.clone(),
                description: format!("Video {n}"),
                ..Default::default()
            })
            .await
            .unwrap();
        analyst
            .record_assessment(pb::RecordAssessmentRequest {
                case_id: case.id.clone(),
                assessment: Some(pb::Assessment {
                    evidence_id: id.clone(),
                    verdict: pb::Verdict::LikelyAuthentic.into(),
                    method: pb::AssessmentMethod::Geolocation.into(),
                    examiner: "Open-source investigations unit".into(),
                    findings: "Matches the street.".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap();
        items.push(id);
    }
    let size = 2;
    let id = case.id.clone();

    let c = investigator.clone();
    let (persons, pages) = read_all(size, |page_token| {
        let (mut c, id) = (c.clone(), id.clone());
        async move {
            let r = c
                .list_persons(pb::ListPersonsRequest {
                    case_id: id,
                    page_size: 2,
                    page_token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            (r.persons, r.next_page_token)
        }
    })
    .await;
    let ids: Vec<String> = persons.into_iter().map(|p| p.id).collect();
    let expected: Vec<String> = suspects.iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids, expected, "persons in the order added, each once");
    assert_eq!(pages, 3);

    let (charges, pages) = read_all(size, |page_token| {
        let (mut c, id) = (c.clone(), id.clone());
        async move {
            let r = c
                .list_charges(pb::ListChargesRequest {
                    case_id: id,
                    page_size: 2,
                    page_token,
                })
                .await
                .unwrap()
                .into_inner();
            (r.charges, r.next_page_token)
        }
    })
    .await;
    let charged: Vec<String> = charges.into_iter().map(|c| c.person_id).collect();
    assert_eq!(charged, expected, "charges in the order filed");
    assert_eq!(pages, 3);

    let (linked, _) = read_all(size, |page_token| {
        let (mut c, id) = (c.clone(), id.clone());
        async move {
            let r = c
                .list_evidence(pb::ListEvidenceRequest {
                    case_id: id,
                    page_size: 2,
                    page_token,
                })
                .await
                .unwrap()
                .into_inner();
            (r.evidence, r.next_page_token)
        }
    })
    .await;
    let linked: Vec<String> = linked.into_iter().map(|e| e.evidence_id).collect();
    assert_eq!(linked, items, "evidence in the order linked");

    let (assessments, _) = read_all(size, |page_token| {
        let (mut c, id) = (c.clone(), id.clone());
        async move {
            let r = c
                .list_assessments(pb::ListAssessmentsRequest {
                    case_id: id,
                    page_size: 2,
                    page_token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            (r.assessments, r.next_page_token)
        }
    })
    .await;
    let assessed: Vec<String> = assessments.into_iter().map(|a| a.evidence_id).collect();
    assert_eq!(assessed, items, "assessments oldest first");

    let (history, pages) = read_all(1, |page_token| {
        let (mut c, id) = (c.clone(), id.clone());
        async move {
            let r = c
                .list_case_history(pb::ListCaseHistoryRequest {
                    case_id: id,
                    page_size: 1,
                    page_token,
                })
                .await
                .unwrap()
                .into_inner();
            (r.changes, r.next_page_token)
        }
    })
    .await;
    let moves: Vec<pb::CaseStatus> = history.iter().map(|c| c.to_status()).collect();
    use pb::CaseStatus::*;
    assert_eq!(moves, [Open, UnderInvestigation, ChargesFiled]);
    assert_eq!(pages, 3);

    let mut intake = app.intake().await;
    let (custody, _) = read_all(1, |page_token| {
        let (mut intake, id) = (intake.clone(), items[0].clone());
        async move {
            let r = intake
                .list_custody_events(intake::ListCustodyEventsRequest {
                    evidence_id: id,
                    page_size: 1,
                    page_token,
                })
                .await
                .unwrap()
                .into_inner();
            (r.events, r.next_page_token)
        }
    })
    .await;
    let whole = intake
        .list_custody_events(intake::ListCustodyEventsRequest {
            evidence_id: items[0].clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(custody.len() >= 2, "collected and uploaded at least");
    assert_eq!(custody, whole.events);
    assert!(whole.next_page_token.is_empty());

    // A token is bound to its list and its case: it does not continue another.
    let first = investigator
        .list_persons(pb::ListPersonsRequest {
            case_id: id.clone(),
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let other = open(&mut investigator, case_message("Another case", "AM")).await;
    for refused in [
        investigator
            .list_persons(pb::ListPersonsRequest {
                case_id: other.id.clone(),
                page_size: 2,
                page_token: first.next_page_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err(),
        investigator
            .list_charges(pb::ListChargesRequest {
                case_id: id.clone(),
                page_size: 2,
                page_token: first.next_page_token.clone(),
            })
            .await
            .unwrap_err(),
        investigator
            .list_evidence(pb::ListEvidenceRequest {
                case_id: id.clone(),
                page_size: -1,
                page_token: String::new(),
            })
            .await
            .unwrap_err(),
    ] {
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    }
    app.stop().await;
}

/// Every case title `request` lists, read two at a time.
async fn titles(cases: &CaseClient, request: pb::ListCasesRequest) -> Vec<String> {
    let (titles, _) = read_all(2, |token| {
        let mut cases = cases.clone();
        let request = pb::ListCasesRequest {
            page_size: 2,
            page_token: token,
            ..request.clone()
        };
        async move {
            let page = cases.list_cases(request).await.unwrap().into_inner();
            let titles = page.cases.into_iter().map(|c| c.title).collect();
            (titles, page.next_page_token)
        }
    })
    .await;
    titles
}

/// Parties, crime types and kinds of violation are rows of their own (`case_codes`), read in
/// the order of their index: pages follow one another there, filters on two lists combine, and
/// a list changed by an update or a qualification moves the case between the answers.
async fn cases_are_filtered_by_party_and_crime_page_by_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let mut prosecutor = app.cases_as(Role::Prosecutor).await;
    let mut opened = Vec::new();
    for (title, parties) in [
        ("Case 1", vec!["AM"]),
        ("Case 2", vec!["AZ", "AM"]),
        ("Case 3", vec!["AZ"]),
        ("Case 4", vec!["AM"]),
        ("Case 5", vec!["AM", "AZ"]),
        ("Case 6", vec!["AM"]),
    ] {
        let case = pb::Case {
            party_codes: parties.iter().map(|p| (*p).to_owned()).collect(),
            ..case_message(title, "AM")
        };
        opened.push(open(&mut cases, case).await);
    }
    assert_eq!(opened[1].party_codes, ["AZ", "AM"], "in the order given");
    for case in [&opened[0], &opened[1], &opened[4]] {
        qualify(&mut prosecutor, case, &["icc.8.2.a.i"]).await;
    }
    let by_party = |party: &str| pb::ListCasesRequest {
        party_code: party.into(),
        ..Default::default()
    };
    assert_eq!(
        titles(&cases, by_party("AM")).await,
        ["Case 1", "Case 2", "Case 4", "Case 5", "Case 6"],
        "by party, two a page"
    );
    assert_eq!(
        titles(&cases, by_party("AZ")).await,
        ["Case 2", "Case 3", "Case 5"]
    );
    assert_eq!(
        titles(
            &cases,
            pb::ListCasesRequest {
                crime_type_code: "icc.8.2.a.i".into(),
                ..by_party("AZ")
            }
        )
        .await,
        ["Case 2", "Case 5"],
        "party and crime type combine"
    );
    assert_eq!(
        titles(
            &cases,
            pb::ListCasesRequest {
                violation_type: common::ViolationType::Killing.into(),
                status: pb::CaseStatus::Open.into(),
                ..by_party("AZ")
            }
        )
        .await,
        ["Case 2", "Case 3", "Case 5"],
        "party, violation and status combine"
    );

    // Case 2 no longer alleges AZ; Case 5 loses its qualification.
    let case2 = cases
        .get_case(pb::GetCaseRequest {
            case_id: opened[1].id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let updated = cases
        .update_case(pb::UpdateCaseRequest {
            case_id: case2.id.clone(),
            etag: case2.etag.clone(),
            r#case: Some(pb::Case {
                party_codes: vec!["AM".into()],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["party_codes".into()],
            }),
            reason: "AZ withdrawn after review".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(updated.party_codes, ["AM"]);
    assert_eq!(
        updated.crime_type_codes,
        ["icc.8.2.a.i"],
        "other lists stay"
    );
    let case5 = cases
        .get_case(pb::GetCaseRequest {
            case_id: opened[4].id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    prosecutor
        .qualify_case(pb::QualifyCaseRequest {
            case_id: case5.id.clone(),
            etag: case5.etag.clone(),
            add_crime_type_codes: Vec::new(),
            remove_crime_type_codes: vec!["icc.8.2.a.i".into()],
        })
        .await
        .unwrap();
    assert_eq!(titles(&cases, by_party("AZ")).await, ["Case 3", "Case 5"]);
    assert_eq!(
        titles(
            &cases,
            pb::ListCasesRequest {
                crime_type_code: "icc.8.2.a.i".into(),
                ..Default::default()
            }
        )
        .await,
        ["Case 1", "Case 2"]
    );
    app.stop().await;
}

/// A case at `place` over `[start, end]`, assigned to `investigator`, alleging `violation`.
fn case_at(
    title: &str,
    place: &str,
    (start, end): (i64, i64),
    investigator: &str,
    violation: common::ViolationType,
) -> pb::Case {
    pb::Case {
        violation_types: vec![violation.into()],
        incident_period: Some(common::IncidentPeriod {
            start_time: Some(at(start)),
            end_time: Some(at(end)),
            precision: common::TimePrecision::Day.into(),
        }),
        location: Some(common::Location {
            place_name: place.into(),
            country_code: "AZ".into(),
            latitude: Some(40.0),
            longitude: Some(47.0),
            precision: common::LocationPrecision::Neighbourhood.into(),
            ..Default::default()
        }),
        assigned_investigator: investigator.into(),
        ..case_message(title, "AZ")
    }
}

async fn cases_are_filtered_by_person_assignee_period_place_and_violation(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    const DAY: i64 = 86_400;
    const OCT_1: i64 = 1_601_510_400; // 2020-10-01T00:00:00Z
    let hadrut = open(
        &mut cases,
        case_at(
            "Hadrut executions",
            "Hadrut",
            (OCT_1 + 14 * DAY, OCT_1 + 15 * DAY),
            "investigator.mammadov",
            common::ViolationType::Killing,
        ),
    )
    .await;
    let ganja = open(
        &mut cases,
        case_at(
            "Ganja shelling",
            "Ganja",
            (OCT_1 + 10 * DAY, OCT_1 + 17 * DAY),
            "investigator.hasanova",
            common::ViolationType::IndiscriminateAttack,
        ),
    )
    .await;
    let tartar = open(
        &mut cases,
        case_at(
            "Tartar shelling",
            "Tartar",
            (OCT_1 - 20 * DAY, OCT_1 - 18 * DAY),
            "investigator.mammadov",
            common::ViolationType::IndiscriminateAttack,
        ),
    )
    .await;
    let suspect = add_suspect(&mut cases, &hadrut.id, "Commander A").await;
    cases
        .add_person(pb::AddPersonRequest {
            case_id: tartar.id.clone(),
            person: Some(pb::Person {
                id: suspect.id.clone(),
                role: pb::PersonRole::Suspect.into(),
                position: "Commander".into(),
                affiliation_party_code: "AZ".into(),
                mode_of_liability: pb::ModeOfLiability::Ordering.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    add_suspect(&mut cases, &ganja.id, "Commander B").await;
    // The prosecutor assigned to the Ganja case is an assignee too.
    let ganja_now = super::get(&mut cases, &ganja.id).await;
    cases
        .update_case(pb::UpdateCaseRequest {
            case_id: ganja.id.clone(),
            etag: ganja_now.etag,
            r#case: Some(pb::Case {
                assigned_prosecutor: "prosecutor.aliyev".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["assigned_prosecutor".into()],
            }),
            reason: String::new(),
        })
        .await
        .unwrap();

    let listed = |request: pb::ListCasesRequest| {
        let mut cases = cases.clone();
        async move {
            let mut titles: Vec<String> = cases
                .list_cases(request)
                .await
                .unwrap()
                .into_inner()
                .cases
                .into_iter()
                .map(|c| c.title)
                .collect();
            titles.sort();
            titles
        }
    };
    assert_eq!(
        listed(pb::ListCasesRequest {
            person_id: suspect.id.clone(),
            ..Default::default()
        })
        .await,
        ["Hadrut executions", "Tartar shelling"],
        "by person"
    );
    assert_eq!(
        listed(pb::ListCasesRequest {
            assignee: "investigator.mammadov".into(),
            ..Default::default()
        })
        .await,
        ["Hadrut executions", "Tartar shelling"],
        "by investigator"
    );
    assert_eq!(
        listed(pb::ListCasesRequest {
            assignee: "prosecutor.aliyev".into(),
            ..Default::default()
        })
        .await,
        ["Ganja shelling"],
        "by prosecutor"
    );
    assert_eq!(
        listed(pb::ListCasesRequest {
            incident_from_time: Some(at(OCT_1 + 12 * DAY)),
            incident_to_time: Some(at(OCT_1 + 13 * DAY)),
            ..Default::default()
        })
        .await,
        ["Ganja shelling"],
        "a period inside one incident's"
    );
    assert_eq!(
        listed(pb::ListCasesRequest {
            incident_from_time: Some(at(OCT_1)),
            ..Default::default()
        })
        .await,
        ["Ganja shelling", "Hadrut executions"],
        "from a time on"
    );
    assert_eq!(
        listed(pb::ListCasesRequest {
            incident_to_time: Some(at(OCT_1)),
            ..Default::default()
        })
        .await,
        ["Tartar shelling"],
        "up to a time"
    );
    assert_eq!(
        listed(pb::ListCasesRequest {
            place_name: "  hadrut ".into(),
            ..Default::default()
        })
        .await,
        ["Hadrut executions"],
        "by place, letter case aside"
    );
    assert_eq!(
        listed(pb::ListCasesRequest {
            violation_type: common::ViolationType::IndiscriminateAttack.into(),
            ..Default::default()
        })
        .await,
        ["Ganja shelling", "Tartar shelling"],
        "by violation"
    );
    assert_eq!(
        listed(pb::ListCasesRequest {
            violation_type: common::ViolationType::IndiscriminateAttack.into(),
            assignee: "investigator.mammadov".into(),
            ..Default::default()
        })
        .await,
        ["Tartar shelling"],
        "filters combine"
    );
    let bad = cases
        .list_cases(pb::ListCasesRequest {
            person_id: "Commander A".into(),
            incident_from_time: Some(at(OCT_1)),
            incident_to_time: Some(at(OCT_1 - DAY)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(
        docket_e2e::field_violations(&bad),
        ["person_id", "incident_to_time"]
    );
    app.stop().await;
}

async fn a_dossier_holds_the_case_and_everything_on_it(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let mut prosecutor = app.cases_as(Role::Prosecutor).await;
    let case = open(
        &mut investigator,
        case_message("Execution of prisoners", "AZ"),
    )
    .await;
    let case = qualify(&mut prosecutor, &case, &["icc.8.2.a.i"]).await;
    let case = advance(&mut investigator, &case, pb::CaseStatus::UnderInvestigation).await;
    let suspect = add_suspect(&mut investigator, &case.id, "Commander A").await;
    let witness = investigator
        .add_person(pb::AddPersonRequest {
            case_id: case.id.clone(),
            person: Some(pb::Person {
                display_name: "Gulnara Aliyeva".into(),
                role: pb::PersonRole::Witness.into(),
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
    prosecutor
        .file_charge(pb::FileChargeRequest {
            case_id: case.id.clone(),
            person_id: suspect.id.clone(),
            crime_type_code: "icc.8.2.a.i".into(),
            filed_date: "2021-03-01".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let content = b"the original recording";
    let evidence = app.stored_evidence(content).await;
    investigator
        .link_evidence(pb::LinkEvidenceRequest {
            case_id: case.id.clone(),
            evidence_id: evidence.clone(),
            description: "Video of the execution".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut analyst_intake = app.intake_as(Role::Analyst).await;
    analyst_intake
        .assess_content(crate::verdicts::judgement(
            &evidence,
            intake::ContentVerdict::Authentic,
        ))
        .await
        .unwrap();

    let dossier = investigator
        .get_case_dossier(pb::GetCaseDossierRequest {
            case_id: case.reference.to_lowercase(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dossier.r#case.as_ref().unwrap().id, case.id);
    let names: Vec<&str> = dossier
        .persons
        .iter()
        .map(|p| p.display_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["Commander A", "Gulnara Aliyeva"],
        "investigators see sealed names"
    );
    assert_eq!(dossier.charges.len(), 1);
    assert_eq!(dossier.charges[0].person_id, suspect.id);
    assert_eq!(dossier.evidence.len(), 1);
    let item = &dossier.evidence[0];
    let record = item.record.as_ref().unwrap();
    assert_eq!(record.id, evidence);
    assert_eq!(record.sha256, hex::encode(sha2_digest(content)));
    assert_eq!(
        item.link.as_ref().unwrap().content_verdict(),
        pb::Verdict::Authentic
    );
    assert!(
        item.custody
            .iter()
            .any(|e| e.kind() == intake::CustodyEventKind::Uploaded),
        "{:?}",
        item.custody
    );
    use pb::CaseStatus::*;
    let moves: Vec<pb::CaseStatus> = dossier.history.iter().map(|c| c.to_status()).collect();
    assert_eq!(moves, [Open, UnderInvestigation, ChargesFiled]);
    assert!(dossier.truncated.is_empty());

    // An analyst sees the witness redacted, as in ListPersons.
    let mut analyst = app.cases_as(Role::Analyst).await;
    let seen = analyst
        .get_case_dossier(pb::GetCaseDossierRequest {
            case_id: case.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let redacted = seen.persons.iter().find(|p| p.id == witness.id).unwrap();
    assert!(redacted.redacted);
    assert!(redacted.display_name.is_empty());
    // Roles as for GetCase.
    let refused = app
        .cases_as(Role::IntakeOfficer)
        .await
        .get_case_dossier(pb::GetCaseDossierRequest {
            case_id: case.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let unknown = investigator
        .get_case_dossier(pb::GetCaseDossierRequest {
            case_id: "CASE-2099-999999".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    app.stop().await;
}

fn sha2_digest(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}
