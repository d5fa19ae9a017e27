//! The seed's situation at its literal scale: 73 shelling cases against AM with 94 civilians
//! killed, 12 of them children and 19 elderly people; prisoners of war killed by AZ; bodies
//! defiled; four leaders charged in absentia. Its figures by the victims' side and by the
//! perpetrator; then the same 94 people named by the first channel in their cases and again by a
//! second channel, matched by an analyst, still count 94.
//!
//! Built through the real gRPC API, many calls at a time, so that it stays fast on both
//! databases.

use std::collections::HashMap;

use docket_e2e::{Backend, CaseClient, TestApp, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::reporting::v1 as rep;
use tokio::task::JoinSet;

/// Calls in flight at once: enough to keep both services busy, few enough for a test
/// database's connection pool.
const AT_ONCE: usize = 8;

/// How long reporting may take to follow a stage: a list case naming 94 persons is published
/// whole at each of its changes, and a loaded test machine is slow to follow them all.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(180);

use super::register::{filter, until_within, victims};
use super::situation::{LEADERS, charge, investigate};

on_every_backend!(the_seed_at_its_scale_counts_94_killed_and_still_94_once_named_twice);

use rep::Dimension as D;

/// Given names (men, women) and family names, each in the Latin spelling of the first channel
/// and the Cyrillic of the second.
const MEN: [(&str, &str); 10] = [
    ("Ali", "Али"),
    ("Rashad", "Рашад"),
    ("Tural", "Турал"),
    ("Vugar", "Вугар"),
    ("Kamran", "Камран"),
    ("Farid", "Фарид"),
    ("Namig", "Намиг"),
    ("Ramin", "Рамин"),
    ("Samir", "Самир"),
    ("Anar", "Анар"),
];
const WOMEN: [(&str, &str); 10] = [
    ("Sabina", "Сабина"),
    ("Narmin", "Нармин"),
    ("Zarifa", "Зарифа"),
    ("Samira", "Самира"),
    ("Lala", "Лала"),
    ("Nigar", "Нигар"),
    ("Rena", "Рена"),
    ("Tamara", "Тамара"),
    ("Fatima", "Фатима"),
    ("Madina", "Мадина"),
];
const FAMILIES: [(&str, &str); 10] = [
    ("Mamedov", "Мамедов"),
    ("Guliev", "Гулиев"),
    ("Babaev", "Бабаев"),
    ("Nasirov", "Насиров"),
    ("Abbasov", "Аббасов"),
    ("Karimov", "Каримов"),
    ("Safarov", "Сафаров"),
    ("Bagirov", "Багиров"),
    ("Kazimov", "Казимов"),
    ("Rustamov", "Рустамов"),
];

/// One of the 94 civilians killed.
#[derive(Debug, Clone)]
struct Killed {
    latin: String,
    cyrillic: String,
    sex: common::Sex,
    age: i32,
    /// The shelling case (0..73) and its day of harm.
    case: usize,
    day: String,
}

impl Killed {
    fn age_group(&self) -> common::AgeGroup {
        match self.age {
            0..=17 => common::AgeGroup::Child,
            18..=64 => common::AgeGroup::Adult,
            _ => common::AgeGroup::Elderly,
        }
    }

    fn person(&self, cyrillic: bool, source: &str) -> pb::Person {
        pb::Person {
            role: pb::PersonRole::Victim.into(),
            display_name: if cyrillic {
                self.cyrillic.clone()
            } else {
                self.latin.clone()
            },
            affiliation_party_code: "AZ".into(),
            victim: Some(pb::VictimDetails {
                status: common::VictimStatus::Civilian.into(),
                harm: common::Harm::Killed.into(),
                sex: self.sex.into(),
                age_years: Some(self.age),
                harm_date: self.day.clone(),
                harm_place: "Tartar".into(),
                allegation_ids: vec![source.to_owned()],
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// The 94: 12 children, 19 elderly people and 63 adults, in 73 cases (the first 21 with two).
fn the_killed() -> Vec<Killed> {
    let start = chrono::NaiveDate::from_ymd_opt(2020, 9, 27).expect("a date");
    (0..94)
        .map(|i| {
            let woman = i % 2 == 1;
            let (given, family) = (i / 2 % 10, i / 2 / 10 % 10);
            let (given, suffix) = if woman {
                (WOMEN[given], ("a", "а"))
            } else {
                (MEN[given], ("", ""))
            };
            let family = FAMILIES[family];
            let age = match i {
                0..12 => 3 + i32::try_from(i).unwrap_or(0),
                12..31 => 66 + i32::try_from(i - 12).unwrap_or(0),
                _ => 20 + i32::try_from(i - 31).unwrap_or(0) % 40,
            };
            let case = i % 73;
            Killed {
                latin: format!("{} {}{}", given.0, family.0, suffix.0),
                cyrillic: format!("{}{} {}", family.1, suffix.1, given.1),
                sex: if woman {
                    common::Sex::Female
                } else {
                    common::Sex::Male
                },
                age,
                case,
                day: (start + chrono::Days::new(case as u64))
                    .format("%Y-%m-%d")
                    .to_string(),
            }
        })
        .collect()
}

fn group(
    count: i32,
    status: common::VictimStatus,
    harm: common::Harm,
    age_group: common::AgeGroup,
    sex: common::Sex,
    side: &str,
) -> common::VictimGroup {
    common::VictimGroup {
        count,
        status: status.into(),
        harm: harm.into(),
        age_group: age_group.into(),
        sex: sex.into(),
        affiliation_party_code: side.into(),
        age_band: 0,
    }
}

async fn open(
    mut cases: CaseClient,
    title: String,
    party: &str,
    victims: Vec<common::VictimGroup>,
) -> String {
    let mut case = docket_e2e::case_message(&title, party);
    case.victims = victims;
    cases
        .open_case(pb::OpenCaseRequest { r#case: Some(case) })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap()
        .id
}

/// Adds `persons` to their cases, one case's in turn and many cases at once; their ids.
async fn add_all(cases: &CaseClient, persons: Vec<(String, pb::Person)>) -> Vec<String> {
    let mut by_case: HashMap<String, Vec<(usize, pb::Person)>> = HashMap::new();
    for (i, (case_id, person)) in persons.into_iter().enumerate() {
        by_case.entry(case_id).or_default().push((i, person));
    }
    let total = by_case.values().map(Vec::len).sum();
    let mut tasks = JoinSet::new();
    let mut finished = Vec::new();
    for (case_id, persons) in by_case {
        let mut client = cases.clone();
        if tasks.len() >= AT_ONCE {
            let done: Vec<(usize, String)> = tasks.join_next().await.unwrap().unwrap();
            finished.extend(done);
        }
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for (i, person) in persons {
                let added = client
                    .add_person(pb::AddPersonRequest {
                        case_id: case_id.clone(),
                        etag: String::new(),
                        person: Some(person),
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .person
                    .unwrap();
                ids.push((i, added.id));
            }
            ids
        });
    }
    while let Some(done) = tasks.join_next().await {
        finished.extend(done.unwrap());
    }
    let mut ids = vec![String::new(); total];
    for (i, id) in finished {
        ids[i] = id;
    }
    ids
}

async fn by(reporting: &mut docket_e2e::ReportingClient, dimension: D) -> Vec<(String, i64)> {
    let mut rows: Vec<(String, i64)> = reporting
        .query_statistics(rep::QueryStatisticsRequest {
            measure: rep::Measure::Victims.into(),
            group_by: vec![dimension.into()],
            audience: rep::Audience::Internal.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .rows
        .iter()
        .map(|row| (row.keys.join("/"), row.value))
        .collect();
    rows.sort();
    rows
}

fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect()
}

/// Every figure the seed gives, as reporting must count it.
async fn the_seed_figures(reporting: &mut docket_e2e::ReportingClient) {
    until_within(reporting, vec![], 100, PATIENCE).await;
    let killed_civilians = || {
        vec![
            filter(D::Harm, &["HARM_KILLED"]),
            filter(D::VictimStatus, &["VICTIM_STATUS_CIVILIAN"]),
        ]
    };
    assert_eq!(victims(reporting, killed_civilians()).await, 94);
    let of = |group: &str| {
        let mut filters = killed_civilians();
        filters.push(filter(D::AgeGroup, &[group]));
        filters
    };
    assert_eq!(victims(reporting, of("AGE_GROUP_CHILD")).await, 12);
    assert_eq!(victims(reporting, of("AGE_GROUP_ELDERLY")).await, 19);
    assert_eq!(victims(reporting, of("AGE_GROUP_ADULT")).await, 63);
    // By the perpetrator: AM shelled civilians and defiled bodies; AZ killed prisoners.
    assert_eq!(
        by(reporting, D::Party).await,
        pairs(&[("AM", 97), ("AZ", 3)])
    );
    // By the victims' side: the civilians and the defiled bodies were AZ's, the prisoners AM's.
    assert_eq!(
        by(reporting, D::VictimParty).await,
        pairs(&[("AM", 3), ("AZ", 97)])
    );
    assert_eq!(
        by(reporting, D::VictimStatus).await,
        pairs(&[
            ("VICTIM_STATUS_CIVILIAN", 94),
            ("VICTIM_STATUS_HORS_DE_COMBAT", 3),
            ("VICTIM_STATUS_PRISONER_OF_WAR", 3),
        ])
    );
}

async fn the_seed_at_its_scale_counts_94_killed_and_still_94_once_named_twice(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let killed = the_killed();
    let investigator = app.cases().await;

    // 73 shelling cases whose anonymous figures are the 94 by age group and sex, the executions
    // of three prisoners of war in two cases, and the defilement of three bodies.
    let mut tasks = JoinSet::new();
    let mut shelling = vec![String::new(); 73];
    for case in 0..73 {
        let mut cells: HashMap<(i32, i32), i32> = HashMap::new();
        for person in killed.iter().filter(|k| k.case == case) {
            *cells
                .entry((person.age_group().into(), person.sex.into()))
                .or_default() += 1;
        }
        let groups = cells
            .into_iter()
            .map(|((age_group, sex), count)| common::VictimGroup {
                count,
                status: common::VictimStatus::Civilian.into(),
                harm: common::Harm::Killed.into(),
                age_group,
                sex,
                affiliation_party_code: "AZ".into(),
                age_band: 0,
            })
            .collect();
        let client = investigator.clone();
        if tasks.len() >= AT_ONCE {
            let (case, id) = tasks.join_next().await.unwrap().unwrap();
            shelling[case] = id;
        }
        tasks.spawn(async move {
            let id = open(
                client,
                format!("Shelling of Tartar, report {case}"),
                "AM",
                groups,
            )
            .await;
            (case, id)
        });
    }
    let pow = |count| {
        group(
            count,
            common::VictimStatus::PrisonerOfWar,
            common::Harm::Killed,
            common::AgeGroup::Adult,
            common::Sex::Male,
            "AM",
        )
    };
    open(
        investigator.clone(),
        "Execution of prisoners, video 1".into(),
        "AZ",
        vec![pow(2)],
    )
    .await;
    open(
        investigator.clone(),
        "Execution of prisoners, video 2".into(),
        "AZ",
        vec![pow(1)],
    )
    .await;
    let defiled = group(
        3,
        common::VictimStatus::HorsDeCombat,
        common::Harm::BodyDefiled,
        common::AgeGroup::Adult,
        common::Sex::Male,
        "AZ",
    );
    open(
        investigator.clone(),
        "Defilement of bodies".into(),
        "AM",
        vec![defiled],
    )
    .await;
    while let Some(done) = tasks.join_next().await {
        let (case, id) = done.unwrap();
        shelling[case] = id;
    }
    // The four leaders, charged in absentia in the first shelling case.
    investigate(&app, &shelling[0], "icc.8.2.b.i").await;
    for leader in LEADERS {
        charge(&app, &shelling[0], leader, "icc.8.2.b.i", true).await;
    }

    let mut reporting = app.reporting_as(Role::Analyst).await;
    the_seed_figures(&mut reporting).await;
    // The charges are filed after the cases: wait for them too.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let charges = reporting
            .query_statistics(rep::QueryStatisticsRequest {
                measure: rep::Measure::Charges.into(),
                filters: vec![filter(D::InAbsentia, &["true"])],
                audience: rep::Audience::Internal.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .total;
        if charges == 4 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "4 charges in absentia, not {charges}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // The first channel names each of the 94 in their case: they take the places of the
    // anonymous figures.
    let first_channel = uuid::Uuid::now_v7().to_string();
    let named = add_all(
        &investigator,
        killed
            .iter()
            .map(|k| (shelling[k.case].clone(), k.person(false, &first_channel)))
            .collect(),
    )
    .await;
    // A second channel, a victims' association, lists the same 94 in Cyrillic in a case of its
    // own: until an analyst matches them, they are other people.
    let second_channel = uuid::Uuid::now_v7().to_string();
    let list = open(
        investigator.clone(),
        "List of civilians killed in Tartar".into(),
        "AM",
        Vec::new(),
    )
    .await;
    let listed = add_all(
        &investigator,
        killed
            .iter()
            .map(|k| (list.clone(), k.person(true, &second_channel)))
            .collect(),
    )
    .await;
    until_within(&mut reporting, vec![], 100 + 94, PATIENCE).await;

    // The analyst asks for each listed person's candidates and confirms the one that is theirs.
    let analyst = app.cases_as(Role::Analyst).await;
    let mut tasks = JoinSet::new();
    for (listed, named) in listed.into_iter().zip(named) {
        let mut analyst = analyst.clone();
        tasks.spawn(async move {
            let candidates = analyst
                .list_casualty_candidates(pb::ListCasualtyCandidatesRequest {
                    person_id: listed.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .candidates;
            assert!(
                candidates.iter().any(|c| c.person_id == named),
                "the first channel's report is a candidate for {listed}: {candidates:?}"
            );
            analyst
                .confirm_casualty_match(pb::ConfirmCasualtyMatchRequest {
                    person_id: listed,
                    other_person_id: named,
                    reason: "same name in two scripts, age, day and place".into(),
                })
                .await
                .unwrap();
        });
        if tasks.len() >= AT_ONCE {
            tasks.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    // Named twice, counted once: the seed's figures again.
    the_seed_figures(&mut reporting).await;
}
