//! Full-text search and similar allegations: words found in each of the office's scripts,
//! filters, highlights, roles, bad input; an index deleted under the running service rebuilt
//! from the event stream; and re-worded reports of one incident found from one another with
//! precision and recall of at least 0.9.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use docket_e2e::{
    Backend, IntakeClient, TestApp, allegation, field_violations, on_every_backend,
    reworded_reports, submit_request,
};
use docket_platform::auth::Role;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use tonic::Code;

on_every_backend!(
    words_are_found_in_every_script_filtered_ranked_and_highlighted,
    search_is_for_staff_and_refuses_bad_questions,
    an_index_deleted_under_the_running_service_is_rebuilt_and_answers_the_same,
    a_reworded_duplicate_from_another_channel_is_proposed_at_triage,
    similar_allegations_reach_precision_and_recall_of_at_least_0_9,
);

/// One allegation per language, each of another incident.
fn corpus() -> Vec<(&'static str, pb::Allegation)> {
    let at = |mut a: pb::Allegation,
              language: &str,
              narrative: &str,
              place: &str,
              lat: f64,
              lon: f64,
              day: i64,
              party: &str,
              violation: common::ViolationType,
              channel: pb::Channel| {
        a.language = language.into();
        a.narrative = narrative.into();
        a.channel = channel.into();
        let location = a.location.get_or_insert_with(Default::default);
        location.place_name = place.into();
        location.admin_area = String::new();
        location.latitude = Some(lat);
        location.longitude = Some(lon);
        let start = 1_601_164_800 + day * 86_400;
        a.incident_period = Some(common::IncidentPeriod {
            start_time: Some(prost_types::Timestamp {
                seconds: start,
                nanos: 0,
            }),
            end_time: Some(prost_types::Timestamp {
                seconds: start + 3_600,
                nanos: 0,
            }),
            precision: common::TimePrecision::Hour.into(),
        });
        a.violation_types = vec![violation.into()];
        a.alleged_perpetrators = vec![common::AllegedPerpetrator {
            party_code: party.into(),
            unit: "3rd motor rifle battalion".into(),
            description: String::new(),
        }];
        a
    };
    use common::ViolationType as V;
    use pb::Channel as C;
    vec![
        (
            "az",
            at(
                allegation(),
                "az",
                "Ağdam rayonunda evlər yandırıldı, mülki şəxslər öldürüldü.",
                "Ağdam",
                39.9931,
                46.9303,
                3,
                "AM",
                V::Killing,
                C::Hotline,
            ),
        ),
        (
            "hy",
            at(
                allegation(),
                "hy",
                "Ստեփանակերտում հրթիռային հարվածից զոհվել են խաղաղ բնակիչներ։",
                "Ստեփանակերտ",
                39.8153,
                46.7519,
                8,
                "AZ",
                V::AttackOnCivilians,
                C::NgoSubmission,
            ),
        ),
        (
            "ru",
            at(
                allegation(),
                "ru",
                "В Гадруте военнопленных расстреляли у дороги, тела оставили в поле.",
                "Гадрут",
                39.52,
                47.03,
                14,
                "AZ",
                V::Killing,
                C::WalkIn,
            ),
        ),
        (
            "uk",
            at(
                allegation(),
                "uk",
                "У Шуші обстріляли собор, поранено цивільних, які ховалися всередині.",
                "Шуша",
                39.7583,
                46.7483,
                20,
                "AZ",
                V::AttackOnCivilians,
                C::SocialMediaMonitoring,
            ),
        ),
        (
            "en",
            at(
                allegation(),
                "en",
                "In Ganja rockets hit apartment buildings at night, killing civilians asleep.",
                "Ganja",
                40.6828,
                46.3606,
                25,
                "AM",
                V::AttackOnCivilians,
                C::NgoSubmission,
            ),
        ),
    ]
}

async fn search(
    client: &mut IntakeClient,
    request: pb::SearchAllegationsRequest,
) -> pb::SearchAllegationsResponse {
    client
        .search_allegations(request)
        .await
        .expect("the search is answered")
        .into_inner()
}

fn words(query: &str) -> pb::SearchAllegationsRequest {
    pb::SearchAllegationsRequest {
        query: query.into(),
        ..Default::default()
    }
}

/// Submits `allegations`; their ids in order.
async fn submit_all(client: &mut IntakeClient, allegations: Vec<pb::Allegation>) -> Vec<String> {
    let mut ids = Vec::new();
    for a in allegations {
        let answer = client
            .submit_allegation(submit_request(a))
            .await
            .expect("submitted")
            .into_inner();
        ids.push(answer.allegation.expect("an allegation").id);
    }
    ids
}

/// Waits until the index holds `count` received allegations.
async fn indexed(client: &mut IntakeClient, count: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = client
            .search_allegations(pb::SearchAllegationsRequest {
                statuses: vec![pb::AllegationStatus::Received.into()],
                page_size: 1,
                ..Default::default()
            })
            .await;
        if let Ok(answer) = answer
            && answer.get_ref().total_size == count
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the index never held {count} allegations"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ids(answer: &pb::SearchAllegationsResponse) -> Vec<String> {
    answer
        .hits
        .iter()
        .map(|h| h.allegation_id.clone())
        .collect()
}

async fn words_are_found_in_every_script_filtered_ranked_and_highlighted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut client = app.intake_as(Role::IntakeOfficer).await;
    let corpus = corpus();
    let submitted = submit_all(&mut client, corpus.iter().map(|(_, a)| a.clone()).collect()).await;
    let by_language: BTreeMap<&str, String> = corpus
        .iter()
        .map(|(l, _)| *l)
        .zip(submitted.iter().cloned())
        .collect();
    indexed(&mut client, 5).await;

    // A place or a name, written in another script than the report's.
    for (query, language) in [
        ("Aghdam", "az"),
        ("Агдам", "az"),
        ("Stepanakert", "hy"),
        ("Степанакерт", "hy"),
        ("Hadrut", "ru"),
        ("Հադրութ", "ru"),
        ("Shusha", "uk"),
        ("Şuşa", "uk"),
        ("Гянджа", "en"),
        ("Gəncə", "en"),
    ] {
        let answer = search(&mut client, words(query)).await;
        assert_eq!(
            ids(&answer).first(),
            Some(&by_language[language]),
            "{query} finds the {language} report first: {answer:?}"
        );
    }
    // Words in each language as written, and stemmed where a stemmer exists.
    for (query, language) in [
        ("yandırıldı", "az"),
        ("զոհվել", "hy"),
        ("военнопленные расстрел", "ru"),
        ("обстріляли собор", "uk"),
        ("rocket killed", "en"),
    ] {
        let answer = search(&mut client, words(query)).await;
        assert_eq!(
            ids(&answer).first(),
            Some(&by_language[language]),
            "{query} finds the {language} report first: {answer:?}"
        );
        assert!(
            answer.hits[0].highlight.contains("<b>"),
            "{query}: the passage found is highlighted: {:?}",
            answer.hits[0].highlight
        );
    }
    // Units are searched too; sources never.
    let units = search(&mut client, words("battalion")).await;
    assert_eq!(units.total_size, 5);
    let source = search(&mut client, words("Leyla Mammadova")).await;
    assert_eq!(
        source.total_size, 0,
        "a source's name is never indexed: {source:?}"
    );

    // Filters, alone and with words.
    let filtered = |f: fn(&mut pb::SearchAllegationsRequest)| {
        let mut request = pb::SearchAllegationsRequest::default();
        f(&mut request);
        request
    };
    let cases: Vec<(pb::SearchAllegationsRequest, Vec<&str>)> = vec![
        (
            filtered(|r| r.party_codes = vec!["AM".into()]),
            vec!["az", "en"],
        ),
        (
            filtered(|r| r.violation_types = vec![common::ViolationType::Killing.into()]),
            vec!["az", "ru"],
        ),
        (
            filtered(|r| r.channels = vec![pb::Channel::NgoSubmission.into()]),
            vec!["hy", "en"],
        ),
        (
            // Days 10 to 21: the Hadrut and Shusha incidents.
            filtered(|r| {
                r.incident_from_time = Some(prost_types::Timestamp {
                    seconds: 1_601_164_800 + 10 * 86_400,
                    nanos: 0,
                });
                r.incident_to_time = Some(prost_types::Timestamp {
                    seconds: 1_601_164_800 + 21 * 86_400,
                    nanos: 0,
                });
            }),
            vec!["ru", "uk"],
        ),
        (
            // 10 km around Stepanakert: Shusha is 6.4 km away, Aghdam 23 km.
            filtered(|r| {
                r.within_radius = Some(pb::GeoCircle {
                    latitude: 39.8153,
                    longitude: 46.7519,
                    radius_km: 10.0,
                });
            }),
            vec!["hy", "uk"],
        ),
        (
            filtered(|r| {
                r.within_box = Some(pb::GeoBox {
                    min_latitude: 40.0,
                    min_longitude: 46.0,
                    max_latitude: 41.0,
                    max_longitude: 47.0,
                });
            }),
            vec!["en"],
        ),
        (
            filtered(|r| {
                r.query = "civilians".into();
                r.party_codes = vec!["AM".into()];
            }),
            vec!["en"],
        ),
    ];
    for (request, expected) in cases {
        let answer = search(&mut client, request.clone()).await;
        let found: BTreeSet<String> = ids(&answer).into_iter().collect();
        let wanted: BTreeSet<String> = expected.iter().map(|l| by_language[l].clone()).collect();
        assert_eq!(found, wanted, "{request:?}");
        assert_eq!(answer.total_size, wanted.len() as i64);
    }
    // Status follows triage.
    client
        .start_review(pb::StartReviewRequest {
            id: by_language["ru"].clone(),
        })
        .await
        .expect("review started");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = search(
            &mut client,
            filtered(|r| r.statuses = vec![pb::AllegationStatus::UnderReview.into()]),
        )
        .await;
        if ids(&answer) == vec![by_language["ru"].clone()] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the status change never reached the index"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Pages: two hits, then the rest, with nothing repeated.
    let first = search(
        &mut client,
        pb::SearchAllegationsRequest {
            query: "battalion".into(),
            page_size: 2,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(first.hits.len(), 2);
    let rest = search(
        &mut client,
        pb::SearchAllegationsRequest {
            query: "battalion".into(),
            page_size: 10,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        },
    )
    .await;
    let all: BTreeSet<String> = ids(&first).into_iter().chain(ids(&rest)).collect();
    assert_eq!(all.len(), 5);
    assert!(rest.next_page_token.is_empty());
    app.stop().await;
}

async fn search_is_for_staff_and_refuses_bad_questions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake_as(Role::IntakeOfficer).await;
    let id = submit_all(&mut officer, vec![allegation()]).await.remove(0);
    indexed(&mut officer, 1).await;
    for role in [
        Role::Analyst,
        Role::Investigator,
        Role::Prosecutor,
        Role::Supervisor,
    ] {
        let mut client = app.intake_as(role).await;
        let answer = search(&mut client, words("Shahriyar")).await;
        assert_eq!(ids(&answer), vec![id.clone()], "{role:?} searches");
    }
    for role in [Role::PublicReporter, Role::Auditor, Role::Service] {
        let mut client = app.intake_as(role).await;
        let refused = client
            .search_allegations(words("Shahriyar"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{role:?}");
        let refused = client
            .list_similar_allegations(pb::ListSimilarAllegationsRequest {
                allegation_id: id.clone(),
                max_results: 0,
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{role:?}");
    }
    for (request, field) in [
        (pb::SearchAllegationsRequest::default(), "query"),
        (
            pb::SearchAllegationsRequest {
                query: "x".into(),
                page_size: 101,
                ..Default::default()
            },
            "page_size",
        ),
        (
            pb::SearchAllegationsRequest {
                within_radius: Some(pb::GeoCircle {
                    latitude: 40.0,
                    longitude: 46.0,
                    radius_km: -1.0,
                }),
                ..Default::default()
            },
            "within_radius.radius_km",
        ),
        (
            pb::SearchAllegationsRequest {
                query: "x".into(),
                page_token: "00".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            pb::SearchAllegationsRequest {
                statuses: vec![99],
                ..Default::default()
            },
            "statuses[0]",
        ),
    ] {
        let refused = officer
            .search_allegations(request.clone())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{request:?}");
        assert!(
            field_violations(&refused).iter().any(|f| f == field),
            "{request:?}: {:?}",
            field_violations(&refused)
        );
    }
    let refused = officer
        .list_similar_allegations(pb::ListSimilarAllegationsRequest {
            allegation_id: "nope".into(),
            max_results: 51,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let violations = field_violations(&refused);
    assert!(
        violations.contains(&"allegation_id".to_owned()),
        "{violations:?}"
    );
    assert!(
        violations.contains(&"max_results".to_owned()),
        "{violations:?}"
    );
    let missing = officer
        .list_similar_allegations(pb::ListSimilarAllegationsRequest {
            allegation_id: uuid::Uuid::now_v7().to_string(),
            max_results: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    app.stop().await;
}

async fn an_index_deleted_under_the_running_service_is_rebuilt_and_answers_the_same(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut client = app.intake_as(Role::Analyst).await;
    let mut officer = app.intake_as(Role::IntakeOfficer).await;
    let reports = reworded_reports(7, 20, 60);
    submit_all(
        &mut officer,
        reports.iter().map(|r| r.allegation.clone()).collect(),
    )
    .await;
    indexed(&mut client, 60).await;
    let questions = [
        words("Степанакерт"),
        words("Khojaly rockets market"),
        pb::SearchAllegationsRequest {
            query: "civilians".into(),
            within_radius: Some(pb::GeoCircle {
                latitude: 39.8,
                longitude: 46.8,
                radius_km: 30.0,
            }),
            page_size: 100,
            ..Default::default()
        },
        pb::SearchAllegationsRequest {
            party_codes: vec!["AM".into()],
            page_size: 100,
            ..Default::default()
        },
    ];
    let mut before = Vec::new();
    for q in &questions {
        let mut answer = search(&mut client, q.clone()).await;
        answer.indexed_sequence = 0;
        before.push(answer);
    }
    assert!(before.iter().all(|a| a.total_size > 0), "{before:?}");

    let dir = app.settings.data_dir.join("search").join("allegations");
    assert!(
        dir.join("meta.json").exists(),
        "the index lives in {}",
        dir.display()
    );
    std::fs::remove_dir_all(&dir).expect("the index directory is deleted");

    // The service keeps running (the files it had open answer meanwhile); it notices, builds
    // a new index from the event stream, and that answers the same.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.join("meta.json").exists() {
        assert!(
            Instant::now() < deadline,
            "the index was never rebuilt on disk"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    loop {
        let mut after = Vec::new();
        for q in &questions {
            match client.search_allegations(q.clone()).await {
                Ok(answer) => {
                    let mut answer = answer.into_inner();
                    answer.indexed_sequence = 0;
                    after.push(answer);
                }
                Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
            }
        }
        if after == before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rebuilt index answers otherwise: {after:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And it keeps following the stream.
    submit_all(&mut officer, vec![allegation()]).await;
    indexed(&mut client, 61).await;
    app.stop().await;
}

async fn a_reworded_duplicate_from_another_channel_is_proposed_at_triage(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake_as(Role::IntakeOfficer).await;
    // An NGO's report in English, and one of another incident at the same place a week later.
    let first = allegation();
    let mut later = allegation();
    later.narrative =
        "A week later a drone struck a car on Shahriyar street; the driver died.".into();
    let period = later.incident_period.as_mut().unwrap();
    for t in [&mut period.start_time, &mut period.end_time] {
        t.as_mut().unwrap().seconds += 7 * 86_400;
    }
    // The same incident from a hotline call, in Russian, the place written in Cyrillic and a
    // little off, the toll different.
    let mut call = allegation();
    call.channel = pb::Channel::Hotline.into();
    call.language = "ru".into();
    call.source = Some(pb::Source {
        anonymous: true,
        ..Default::default()
    });
    call.narrative = "Звонившая говорит, что ночью ракеты попали в дома на улице Шахрияр в \
                      Гяндже; погибли две женщины, ранен мальчик."
        .into();
    let location = call.location.as_mut().unwrap();
    location.place_name = "Гянджа, улица Шахрияр".into();
    location.latitude = Some(40.6851);
    location.longitude = Some(46.3571);
    let ids = submit_all(&mut officer, vec![first, later]).await;
    let call_id = submit_all(&mut officer, vec![call]).await.remove(0);
    indexed(&mut officer, 3).await;

    let proposed = officer
        .list_similar_allegations(pb::ListSimilarAllegationsRequest {
            allegation_id: call_id.clone(),
            max_results: 0,
        })
        .await
        .expect("similar allegations are listed")
        .into_inner();
    let found: Vec<&str> = proposed
        .candidates
        .iter()
        .map(|c| c.allegation_id.as_str())
        .collect();
    assert_eq!(
        found,
        vec![ids[0].as_str()],
        "only the same incident: {proposed:?}"
    );
    let candidate = &proposed.candidates[0];
    assert!(candidate.score >= 0.7, "{candidate:?}");
    assert_eq!(candidate.periods_overlap, Some(true));
    assert!(candidate.distance_km.unwrap() < 1.0, "{candidate:?}");
    assert_eq!(candidate.channel, i32::from(pb::Channel::NgoSubmission));
    // The officer takes it up for review, the candidate in hand.
    officer
        .start_review(pb::StartReviewRequest {
            id: call_id.clone(),
        })
        .await
        .expect("review started");
    app.stop().await;
}

async fn similar_allegations_reach_precision_and_recall_of_at_least_0_9(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake_as(Role::IntakeOfficer).await;
    let reports = reworded_reports(2026, 40, 110);
    let ids = submit_all(
        &mut officer,
        reports.iter().map(|r| r.allegation.clone()).collect(),
    )
    .await;
    indexed(&mut officer, reports.len() as i64).await;
    let incident: BTreeMap<&str, usize> = ids
        .iter()
        .map(String::as_str)
        .zip(reports.iter().map(|r| r.incident))
        .collect();
    let mut truth = BTreeSet::new();
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            if incident[a.as_str()] == incident[b.as_str()] {
                truth.insert((a.clone(), b.clone()));
            }
        }
    }
    let mut proposed = BTreeSet::new();
    for id in &ids {
        let answer = officer
            .list_similar_allegations(pb::ListSimilarAllegationsRequest {
                allegation_id: id.clone(),
                max_results: 50,
            })
            .await
            .expect("similar allegations are listed")
            .into_inner();
        for c in answer.candidates {
            let pair = if *id < c.allegation_id {
                (id.clone(), c.allegation_id)
            } else {
                (c.allegation_id, id.clone())
            };
            proposed.insert(pair);
        }
    }
    let right = proposed.intersection(&truth).count() as f64;
    let precision = right / proposed.len().max(1) as f64;
    let recall = right / truth.len().max(1) as f64;
    println!(
        "similar allegations ({backend:?}): {} reports of 40 incidents in 5 languages, {} true \
         pairs, {} proposed: precision {precision:.3}, recall {recall:.3}",
        reports.len(),
        truth.len(),
        proposed.len()
    );
    assert!(
        truth.len() >= 50,
        "the generated set has duplicates to find"
    );
    assert!(precision >= 0.9, "precision {precision:.3}");
    assert!(recall >= 0.9, "recall {recall:.3}");
    app.stop().await;
}
