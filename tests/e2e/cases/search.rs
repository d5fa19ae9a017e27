//! `SearchCases`: cases found by their title, summary and place in any script, stemmed,
//! filtered and highlighted; a change of a case reaching the index; staff roles only; bad
//! questions refused; and an index deleted under the running service rebuilt from case
//! management's event stream, answering the same.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use docket_e2e::{Backend, CaseClient, TestApp, case_message, field_violations, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as intake;
use tonic::Code;

use super::{advance, get, open};

on_every_backend!(
    cases_are_found_by_their_words_in_any_script_filtered_and_highlighted,
    case_search_is_for_staff_and_refuses_bad_questions,
    a_case_index_deleted_under_the_running_service_is_rebuilt_and_answers_the_same,
);

/// A case of one incident, `day` days after 2020-09-27.
struct Incident {
    key: &'static str,
    title: &'static str,
    summary: &'static str,
    place: &'static str,
    at: (f64, f64),
    day: i64,
    party: &'static str,
}

/// Three cases of three incidents.
const CASES: [Incident; 3] = [
    Incident {
        key: "khojaly",
        title: "Killings of civilians fleeing Khojaly",
        summary: "Civilians were shot on the road out of the town; the bodies were left in the fields.",
        place: "Khojaly",
        at: (39.9108, 46.7892),
        day: 3,
        party: "AM",
    },
    Incident {
        key: "hadrut",
        title: "Executions of prisoners of war near Hadrut",
        summary: "Video shows two captured soldiers executed at a roadside.",
        place: "Hadrut",
        at: (39.52, 47.03),
        day: 14,
        party: "AZ",
    },
    Incident {
        key: "ganja",
        title: "Missile strikes on apartment buildings in Ganja",
        summary: "Rockets hit residential buildings at night; civilians were killed in their sleep.",
        place: "Ganja",
        at: (40.6828, 46.3606),
        day: 25,
        party: "AM",
    },
];

fn at(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

fn case_of(i: &Incident) -> pb::Case {
    let start = 1_601_164_800 + i.day * 86_400;
    pb::Case {
        summary: i.summary.into(),
        location: Some(common::Location {
            place_name: i.place.into(),
            latitude: Some(i.at.0),
            longitude: Some(i.at.1),
            precision: common::LocationPrecision::Settlement.into(),
            ..Default::default()
        }),
        incident_period: Some(common::IncidentPeriod {
            start_time: Some(at(start)),
            end_time: Some(at(start + 3_600)),
            precision: common::TimePrecision::Hour.into(),
        }),
        ..case_message(i.title, i.party)
    }
}

/// Opens the three cases; their ids by key.
async fn open_all(cases: &mut CaseClient) -> BTreeMap<&'static str, pb::Case> {
    let mut opened = BTreeMap::new();
    for incident in &CASES {
        let case = open(cases, case_of(incident)).await;
        opened.insert(incident.key, case);
    }
    opened
}

fn words(query: &str) -> pb::SearchCasesRequest {
    pb::SearchCasesRequest {
        query: query.into(),
        ..Default::default()
    }
}

fn ids(answer: &pb::SearchCasesResponse) -> Vec<String> {
    answer.hits.iter().map(|h| h.case_id.clone()).collect()
}

async fn search(
    cases: &mut CaseClient,
    request: pb::SearchCasesRequest,
) -> pb::SearchCasesResponse {
    cases
        .search_cases(request)
        .await
        .expect("the search is answered")
        .into_inner()
}

/// Asks `request` until `done` holds of the answer (the index follows the event stream).
async fn until(
    cases: &mut CaseClient,
    request: pb::SearchCasesRequest,
    done: impl Fn(&pb::SearchCasesResponse) -> bool,
) -> pb::SearchCasesResponse {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(answer) = cases.search_cases(request.clone()).await
            && done(answer.get_ref())
        {
            return answer.into_inner();
        }
        assert!(
            Instant::now() < deadline,
            "the index never answered {request:?} as awaited"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the index holds `count` cases.
async fn indexed(cases: &mut CaseClient, count: i64) {
    let every = pb::SearchCasesRequest {
        party_codes: vec!["AM".into(), "AZ".into()],
        page_size: 1,
        ..Default::default()
    };
    until(cases, every, |a| a.total_size == count).await;
}

async fn cases_are_found_by_their_words_in_any_script_filtered_and_highlighted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    let opened = open_all(&mut cases).await;
    let id = |key: &str| opened[key].id.clone();
    indexed(&mut cases, 3).await;

    for (query, key) in [
        // Places and names in another script than the case's.
        ("Ходжалы", "khojaly"),
        ("Xocalı", "khojaly"),
        ("Гадрут", "hadrut"),
        ("Gəncə", "ganja"),
        // Words stemmed: "executed" finds "Executions", "missiles" finds "Missile".
        ("executed prisoners", "hadrut"),
        ("missiles", "ganja"),
        // The summary is searched as well as the title.
        ("roadside video", "hadrut"),
    ] {
        let answer = search(&mut cases, words(query)).await;
        assert_eq!(
            ids(&answer).first(),
            Some(&id(key)),
            "{query} finds the {key} case first: {answer:?}"
        );
        let hit = &answer.hits[0];
        assert!(hit.highlight.contains("<b>"), "{query}: {hit:?}");
        assert_eq!(hit.reference, opened[key].reference);
        assert_eq!(hit.title, opened[key].title);
        assert_eq!(hit.status, i32::from(pb::CaseStatus::Open));
    }

    // Filters, alone and with words.
    let mut ask = pb::SearchCasesRequest {
        party_codes: vec!["AM".into()],
        ..Default::default()
    };
    let found: BTreeSet<String> = ids(&search(&mut cases, ask.clone()).await)
        .into_iter()
        .collect();
    assert_eq!(found, BTreeSet::from([id("khojaly"), id("ganja")]));
    ask.query = "civilians rockets".into();
    let answer = search(&mut cases, ask).await;
    assert_eq!(ids(&answer).first(), Some(&id("ganja")), "{answer:?}");
    let near_stepanakert = pb::SearchCasesRequest {
        within_radius: Some(intake::GeoCircle {
            latitude: 39.8153,
            longitude: 46.7519,
            radius_km: 20.0,
        }),
        ..Default::default()
    };
    let answer = search(&mut cases, near_stepanakert).await;
    assert_eq!(ids(&answer), vec![id("khojaly")], "{answer:?}");
    let days_10_to_21 = pb::SearchCasesRequest {
        incident_from_time: Some(at(1_601_164_800 + 10 * 86_400)),
        incident_to_time: Some(at(1_601_164_800 + 21 * 86_400)),
        ..Default::default()
    };
    let answer = search(&mut cases, days_10_to_21).await;
    assert_eq!(ids(&answer), vec![id("hadrut")], "{answer:?}");

    // A case's status and title, changed, reach the index.
    advance(
        &mut cases,
        &opened["hadrut"],
        pb::CaseStatus::UnderInvestigation,
    )
    .await;
    let investigated = pb::SearchCasesRequest {
        statuses: vec![pb::CaseStatus::UnderInvestigation.into()],
        ..Default::default()
    };
    until(&mut cases, investigated, |a| ids(a) == vec![id("hadrut")]).await;
    let khojaly = get(&mut cases, &id("khojaly")).await;
    cases
        .update_case(pb::UpdateCaseRequest {
            case_id: khojaly.id.clone(),
            etag: khojaly.etag.clone(),
            r#case: Some(pb::Case {
                title: "Massacre of civilians at Khojaly".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["title".into()],
            }),
            reason: String::new(),
        })
        .await
        .expect("the title is changed");
    let answer = until(&mut cases, words("massacre"), |a| !a.hits.is_empty()).await;
    assert_eq!(ids(&answer), vec![id("khojaly")]);
    assert_eq!(answer.hits[0].title, "Massacre of civilians at Khojaly");
    app.stop().await;
}

async fn case_search_is_for_staff_and_refuses_bad_questions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let opened = open_all(&mut investigator).await;
    indexed(&mut investigator, 3).await;
    for role in [Role::Analyst, Role::Prosecutor, Role::Supervisor] {
        let mut cases = app.cases_as(role).await;
        let answer = search(&mut cases, words("Hadrut")).await;
        assert_eq!(ids(&answer), vec![opened["hadrut"].id.clone()], "{role:?}");
    }
    for role in [Role::IntakeOfficer, Role::PublicReporter, Role::Auditor] {
        let mut cases = app.cases_as(role).await;
        let refused = cases.search_cases(words("Hadrut")).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{role:?}");
    }
    for (request, field) in [
        (pb::SearchCasesRequest::default(), "query"),
        (
            pb::SearchCasesRequest {
                query: "x".into(),
                page_size: 101,
                ..Default::default()
            },
            "page_size",
        ),
        (
            pb::SearchCasesRequest {
                statuses: vec![99],
                ..Default::default()
            },
            "statuses[0]",
        ),
        (
            pb::SearchCasesRequest {
                within_box: Some(intake::GeoBox {
                    min_latitude: 41.0,
                    min_longitude: 46.0,
                    max_latitude: 40.0,
                    max_longitude: 47.0,
                }),
                ..Default::default()
            },
            "within_box.max_latitude",
        ),
        (
            pb::SearchCasesRequest {
                query: "x".into(),
                page_token: "00".into(),
                ..Default::default()
            },
            "page_token",
        ),
    ] {
        let refused = investigator
            .search_cases(request.clone())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{request:?}");
        assert!(
            field_violations(&refused).iter().any(|f| f == field),
            "{request:?}: {:?}",
            field_violations(&refused)
        );
    }
    app.stop().await;
}

async fn a_case_index_deleted_under_the_running_service_is_rebuilt_and_answers_the_same(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut cases = app.cases().await;
    open_all(&mut cases).await;
    indexed(&mut cases, 3).await;
    let questions = [
        words("civilians"),
        words("Ходжалы"),
        pb::SearchCasesRequest {
            party_codes: vec!["AM".into()],
            ..Default::default()
        },
    ];
    let mut before = Vec::new();
    for q in &questions {
        let mut answer = search(&mut cases, q.clone()).await;
        answer.indexed_sequence = 0;
        before.push(answer);
    }
    assert!(before.iter().all(|a| a.total_size > 0), "{before:?}");

    let dir = app.settings.data_dir.join("search").join("cases");
    assert!(
        dir.join("meta.json").exists(),
        "the index lives in {}",
        dir.display()
    );
    std::fs::remove_dir_all(&dir).expect("the index directory is deleted");

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut after = Vec::new();
        for q in &questions {
            match cases.search_cases(q.clone()).await {
                Ok(answer) => {
                    let mut answer = answer.into_inner();
                    answer.indexed_sequence = 0;
                    after.push(answer);
                }
                Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
            }
        }
        if after == before && dir.join("meta.json").exists() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rebuilt index answers otherwise: {after:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And it keeps following the stream.
    open(&mut cases, case_message("Shelling of Tartar", "AZ")).await;
    indexed(&mut cases, 4).await;
    app.stop().await;
}
