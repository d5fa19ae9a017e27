//! The casualty register: victims known individually count once, however many reports name
//! them, and within the case's anonymous figures rather than on top of them.

use std::time::Duration;

use docket_e2e::{Backend, CaseClient, ReportingClient, TestApp, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::reporting::v1 as rep;

use super::situation;

on_every_backend!(
    the_same_victims_named_through_a_second_channel_still_count_once,
    one_person_in_three_allegations_from_two_sources_and_two_cases_counts_once,
    a_person_counted_in_a_case_found_to_rest_on_fabricated_evidence_counts_in_their_other_case,
    changes_of_a_case_while_a_match_is_decided_never_publish_an_old_register_entry,
);

use rep::Dimension as D;
use rep::Measure as M;

pub(super) fn filter(dimension: D, values: &[&str]) -> rep::Filter {
    rep::Filter {
        dimension: dimension.into(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

pub(super) async fn victims(client: &mut ReportingClient, filters: Vec<rep::Filter>) -> i64 {
    client
        .query_statistics(rep::QueryStatisticsRequest {
            measure: M::Victims.into(),
            group_by: Vec::new(),
            filters,
            audience: rep::Audience::Internal.into(),
            include_uncounted: false,
        })
        .await
        .unwrap()
        .into_inner()
        .total
}

/// Waits until the victims matching `filters` number `expected`.
pub(super) async fn until(client: &mut ReportingClient, filters: Vec<rep::Filter>, expected: i64) {
    until_within(client, filters, expected, Duration::from_secs(30)).await;
}

/// [`until`], waiting at most `patience`.
pub(super) async fn until_within(
    client: &mut ReportingClient,
    filters: Vec<rep::Filter>,
    expected: i64,
    patience: Duration,
) {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let found = victims(client, filters.clone()).await;
        if found == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {expected} victims, counted {found}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A named victim on AZ's side.
#[allow(clippy::too_many_arguments)]
fn victim(
    name: &str,
    harm: common::Harm,
    sex: common::Sex,
    age: i32,
    allegation: &str,
) -> pb::Person {
    pb::Person {
        role: pb::PersonRole::Victim.into(),
        display_name: name.to_owned(),
        affiliation_party_code: "AZ".into(),
        victim: Some(pb::VictimDetails {
            status: common::VictimStatus::Civilian.into(),
            harm: harm.into(),
            sex: sex.into(),
            age_years: Some(age),
            harm_date: "2020-10-11".into(),
            harm_place: "Ganja".into(),
            allegation_ids: vec![allegation.to_owned()],
            ..Default::default()
        }),
        ..Default::default()
    }
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

async fn the_same_victims_named_through_a_second_channel_still_count_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let seed = situation::build(&app).await;
    let mut analyst = app.reporting_as(Role::Analyst).await;
    until(&mut analyst, vec![], 30).await;
    let children = || vec![filter(D::AgeGroup, &["AGE_GROUP_CHILD"])];
    let elderly = || vec![filter(D::AgeGroup, &["AGE_GROUP_ELDERLY"])];
    let az = || vec![filter(D::VictimParty, &["AZ"])];
    assert_eq!(victims(&mut analyst, children()).await, 6);
    assert_eq!(victims(&mut analyst, elderly()).await, 3);
    // A second channel names the ten victims of the first shelling case, each with their sex
    // and age: the nine killed and the injured child.
    use common::Harm::{Injured, Killed};
    use common::Sex::{Female, Male};
    let second_channel = uuid::Uuid::now_v7().to_string();
    let mut investigator = app.cases().await;
    let named = [
        ("Aynur Əliyeva", Killed, Female, 34),
        ("Günel Həsənova", Killed, Female, 41),
        // Reported as a man where the first channel counted four women: the figures keep
        // counting one person, now with the second channel's sex.
        ("Rəşad Quliyev", Killed, Male, 29),
        ("Səbinə Rzayeva", Killed, Female, 52),
        ("Elvin Məmmədov", Killed, Male, 7),
        ("Orxan Məmmədov", Killed, Male, 10),
        ("Tural Babayev", Killed, Male, 13),
        ("Zərifə Nəsirova", Killed, Female, 71),
        ("Gülbahar Nəsirova", Killed, Female, 68),
        ("Nərmin Babayeva", Injured, Female, 6),
    ];
    for (name, harm, sex, age) in named {
        add(
            &mut investigator,
            &seed.shelling_1_id,
            victim(name, harm, sex, age, &second_channel),
        )
        .await;
    }
    // Nothing counts twice: the named victims took their places in the groups.
    until(&mut analyst, vec![filter(D::Sex, &["SEX_MALE"])], 15 + 1).await;
    assert_eq!(victims(&mut analyst, vec![]).await, 30);
    assert_eq!(victims(&mut analyst, az()).await, 27);
    assert_eq!(victims(&mut analyst, children()).await, 6);
    assert_eq!(victims(&mut analyst, elderly()).await, 3);
    // The analyst sees no victim's name.
    let persons = app
        .cases_as(Role::Analyst)
        .await
        .list_persons(pb::ListPersonsRequest {
            case_id: seed.shelling_1_id.clone(),
            role: pb::PersonRole::Victim.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .persons;
    assert_eq!(persons.len(), 10);
    assert!(
        persons
            .iter()
            .all(|p| p.redacted && p.display_name.is_empty())
    );
    assert!(persons.iter().all(|p| p.victim.is_some()));
    // A named victim beyond the groups' count is one more: a cell counts at least its named.
    add(
        &mut investigator,
        &seed.shelling_1_id,
        victim("Kamran Quliyev", Killed, Male, 33, &second_channel),
    )
    .await;
    until(&mut analyst, vec![], 31).await;
}

async fn one_person_in_three_allegations_from_two_sources_and_two_cases_counts_once(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let seed = situation::build(&app).await;
    let mut reporting = app.reporting_as(Role::Analyst).await;
    until(&mut reporting, vec![], 30).await;
    let ill_treated = || vec![filter(D::Harm, &["HARM_ILL_TREATED"])];
    assert_eq!(victims(&mut reporting, ill_treated()).await, 0);
    // Source 1 reports him in allegation 1; source 2 in allegations 2 and 3, the last about
    // the other case; each in his own spelling.
    let [a1, a2, a3] = [0; 3].map(|_| uuid::Uuid::now_v7().to_string());
    use common::Harm::IllTreated;
    use common::Sex::Male;
    let mut investigator = app.cases().await;
    let p1 = add(
        &mut investigator,
        &seed.shelling_1_id,
        victim("Əli Məmmədov", IllTreated, Male, 45, &a1),
    )
    .await;
    let p2 = add(
        &mut investigator,
        &seed.shelling_1_id,
        victim("Мамедов Али", IllTreated, Male, 46, &a2),
    )
    .await;
    let p3 = add(
        &mut investigator,
        &seed.defilement_id,
        victim("Ali Mamedov", IllTreated, Male, 45, &a3),
    )
    .await;
    // Someone else, reported the same day: no candidate.
    let other = add(
        &mut investigator,
        &seed.defilement_id,
        victim("Vüqar Hüseynov", IllTreated, Male, 45, &a3),
    )
    .await;
    until(&mut reporting, ill_treated(), 4).await;

    let mut analyst = app.cases_as(Role::Analyst).await;
    let candidates = analyst
        .list_casualty_candidates(pb::ListCasualtyCandidatesRequest {
            person_id: p1.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .candidates;
    let mut proposed: Vec<&str> = candidates.iter().map(|c| c.person_id.as_str()).collect();
    proposed.sort();
    let mut expected = vec![p2.id.as_str(), p3.id.as_str()];
    expected.sort();
    assert_eq!(proposed, expected, "{candidates:?}");
    assert!(!proposed.contains(&other.id.as_str()));

    let pair = |a: &pb::Person, b: &pb::Person| (a.id.clone(), b.id.clone());
    let confirm =
        |(person_id, other_person_id): (String, String)| pb::ConfirmCasualtyMatchRequest {
            person_id,
            other_person_id,
            reason: "same name, age, day and place".into(),
        };
    analyst
        .confirm_casualty_match(confirm(pair(&p1, &p2)))
        .await
        .unwrap();
    let confirmed = analyst
        .confirm_casualty_match(confirm(pair(&p3, &p1)))
        .await
        .unwrap()
        .into_inner()
        .r#match
        .unwrap();
    assert_eq!(
        confirmed.decision,
        pb::CasualtyMatchDecision::Confirmed as i32
    );
    assert_eq!(confirmed.register_id, confirmed.other_register_id);
    until(&mut reporting, ill_treated(), 2).await;

    // The analyst thinks again: the third report is someone else.
    let (person_id, other_person_id) = pair(&p1, &p3);
    let rejected = analyst
        .reject_casualty_match(pb::RejectCasualtyMatchRequest {
            person_id: person_id.clone(),
            other_person_id: other_person_id.clone(),
            reason: "the family says he survived".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#match
        .unwrap();
    assert_ne!(rejected.register_id, rejected.other_register_id);
    until(&mut reporting, ill_treated(), 3).await;

    // And undoes that: the confirmation stands again.
    let undone = analyst
        .undo_casualty_match(pb::UndoCasualtyMatchRequest {
            person_id,
            other_person_id,
            reason: "the family was wrong".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#match
        .unwrap();
    assert_eq!(undone.decision, pb::CasualtyMatchDecision::Confirmed as i32);
    until(&mut reporting, ill_treated(), 2).await;

    // An investigator sees the name; the register entry is the earliest report's.
    let persons = investigator
        .list_persons(pb::ListPersonsRequest {
            case_id: seed.defilement_id.clone(),
            role: pb::PersonRole::Victim.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .persons;
    let p3_now = persons.iter().find(|p| p.id == p3.id).unwrap();
    assert_eq!(p3_now.display_name, "Ali Mamedov");
    assert_eq!(
        p3_now.victim.as_ref().unwrap().register_id,
        std::cmp::min(&p1.id, &p2.id).clone()
    );
}

/// A verdict on content arriving in reporting changes whether a case counts; the register
/// entries it names must follow: a person named in two cases counts once, in the first case that
/// counts, and still once when that case stops counting.
async fn a_person_counted_in_a_case_found_to_rest_on_fabricated_evidence_counts_in_their_other_case(
    backend: Backend,
) {
    use crate::verdicts::{case_of, judgement, link, new_allegation, stored};
    use docket_proto::docket::intake::v1 as intake;
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    let first = new_allegation(&mut officer).await;
    let second = new_allegation(&mut officer).await;
    let video = stored(&mut officer, &first, b"a video of the detention, source 1").await;
    let photo = stored(
        &mut officer,
        &second,
        b"a photograph of the detention, source 2",
    )
    .await;
    let first_case = case_of(&app, &mut officer, &first).await;
    let second_case = case_of(&app, &mut officer, &second).await;
    link(&app, &first_case, &video.id).await;
    link(&app, &second_case, &photo.id).await;

    // The same man, tortured in detention, named in both cases by the two sources.
    let tortured = |name: &str, allegation: &str| {
        let mut person = victim(
            name,
            common::Harm::Tortured,
            common::Sex::Male,
            38,
            allegation,
        );
        if let Some(details) = person.victim.as_mut() {
            details.status = common::VictimStatus::CivilianDetainee.into();
        }
        person
    };
    let mut investigator = app.cases().await;
    let in_first = add(
        &mut investigator,
        &first_case,
        tortured("Rauf Hüseynov", &first),
    )
    .await;
    let in_second = add(
        &mut investigator,
        &second_case,
        tortured("Рауф Гусейнов", &second),
    )
    .await;
    let harm = || vec![filter(D::Harm, &["HARM_TORTURED"])];
    let mut reporting = app.reporting_as(Role::Analyst).await;
    until(&mut reporting, harm(), 2).await;
    app.cases_as(Role::Analyst)
        .await
        .confirm_casualty_match(pb::ConfirmCasualtyMatchRequest {
            person_id: in_first.id.clone(),
            other_person_id: in_second.id.clone(),
            reason: "same name, age and place of detention".into(),
        })
        .await
        .unwrap();
    until(&mut reporting, harm(), 1).await;

    // The case where he counts (the first by id among those that count) turns out to rest only
    // on a fabricated video: it stops counting, and he counts in the other case.
    let (counting, evidence) = if first_case < second_case {
        (&first_case, &video)
    } else {
        (&second_case, &photo)
    };
    app.intake_as(Role::Analyst)
        .await
        .assess_content(judgement(
            &evidence.id,
            intake::ContentVerdict::FabricatedOrManipulated,
        ))
        .await
        .unwrap();
    let fabricated = || vec![filter(D::Counting, &["fabricated_evidence"])];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = reporting
            .query_statistics(rep::QueryStatisticsRequest {
                measure: M::Cases.into(),
                filters: fabricated(),
                audience: rep::Audience::Internal.into(),
                include_uncounted: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        if answer.total == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "case {counting} was never judged to rest on fabricated evidence"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        victims(&mut reporting, harm()).await,
        1,
        "the person named in both cases counts once, in the case that still counts"
    );
}

/// Changes of a case made while an analyst's match decision commits: whatever the interleaving,
/// the case's last published state carries the register entries of the decision, so the person
/// is counted as the decision says and not as before it. Each round races changes of eight
/// cases naming the person against one decision: before changes and decisions were ordered by
/// one lock, a change that read the decisions before the decision's commit could publish after
/// it, and its case kept the old entry until its next change.
async fn changes_of_a_case_while_a_match_is_decided_never_publish_an_old_register_entry(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut investigator = app.cases().await;
    let opener = investigator.clone();
    let open = |title: &'static str| {
        let mut investigator = opener.clone();
        async move {
            investigator
                .open_case(pb::OpenCaseRequest {
                    r#case: Some(docket_e2e::case_message(title, "AM")),
                })
                .await
                .unwrap()
                .into_inner()
                .r#case
                .unwrap()
                .id
        }
    };
    let first_case = open("Disappearance in Hadrut, report 1").await;
    let second_case = open("Disappearance in Hadrut, report 2").await;
    let marker_case = open("Displacement from Hadrut").await;
    let source = uuid::Uuid::now_v7().to_string();
    let missing = |name: &str| victim(name, common::Harm::Missing, common::Sex::Male, 66, &source);
    let a = add(&mut investigator, &first_case, missing("Arsen Grigoryan")).await;
    let b = add(&mut investigator, &second_case, missing("Арсен Григорян")).await;
    // The entry that changes is the later person's; eight more cases name them, and those
    // are the cases changed meanwhile.
    let (low, high) = if a.id < b.id {
        (a.id.clone(), b.id.clone())
    } else {
        (b.id.clone(), a.id.clone())
    };
    let mut busy_cases = Vec::new();
    for _ in 0..8 {
        let case_id = open("Disappearance in Hadrut, a later report").await;
        let mut again = missing("");
        again.id = high.clone();
        add(&mut investigator, &case_id, again).await;
        busy_cases.push(case_id);
    }
    let harm = || vec![filter(D::Harm, &["HARM_MISSING"])];
    let mut reporting = app.reporting_as(Role::Analyst).await;
    until(&mut reporting, harm(), 2).await;
    let analyst = app.cases_as(Role::Analyst).await;
    for round in 0..6_i32 {
        let confirm = round % 2 == 0;
        let changes = busy_cases.iter().enumerate().map(|(i, case_id)| {
            let mut investigator = investigator.clone();
            let case_id = case_id.clone();
            async move {
                // Changes of one case at once conflict on PostgreSQL; each retries as a client
                // would, which keeps them racing the decision.
                loop {
                    let added = investigator
                        .add_person(pb::AddPersonRequest {
                            case_id: case_id.clone(),
                            etag: String::new(),
                            person: Some(pb::Person {
                                role: pb::PersonRole::Witness.into(),
                                display_name: format!("Neighbour {round}-{i}"),
                                ..Default::default()
                            }),
                        })
                        .await;
                    match added {
                        Ok(_) => break,
                        Err(status) if status.code() == tonic::Code::Aborted => continue,
                        Err(status) => panic!("adding a witness: {status:?}"),
                    }
                }
            }
        });
        let mut analyst = analyst.clone();
        let (low, high) = (low.clone(), high.clone());
        let decision = async move {
            let reason = "checked with the family".to_owned();
            if confirm {
                analyst
                    .confirm_casualty_match(pb::ConfirmCasualtyMatchRequest {
                        person_id: low,
                        other_person_id: high,
                        reason,
                    })
                    .await
                    .unwrap();
            } else {
                analyst
                    .reject_casualty_match(pb::RejectCasualtyMatchRequest {
                        person_id: low,
                        other_person_id: high,
                        reason,
                    })
                    .await
                    .unwrap();
            }
        };
        let changes: Vec<_> = changes.map(tokio::spawn).collect();
        decision.await;
        for change in changes {
            change.await.unwrap();
        }
        // A change of a third case, made after all of them: once reporting has followed it, it
        // has followed every change before it, and the figure must be the decision's.
        add(
            &mut investigator,
            &marker_case,
            victim(
                &format!("Displaced {round}"),
                common::Harm::Displaced,
                common::Sex::Female,
                30 + round,
                &source,
            ),
        )
        .await;
        until(
            &mut reporting,
            vec![filter(D::Harm, &["HARM_DISPLACED"])],
            i64::from(round) + 1,
        )
        .await;
        assert_eq!(
            victims(&mut reporting, harm()).await,
            if confirm { 1 } else { 2 },
            "round {round}: the missing man counts as the analyst decided"
        );
    }
}
