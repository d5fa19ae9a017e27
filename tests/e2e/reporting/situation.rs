//! The situation of the seed article, built through case management's API as the office would:
//! shelling of civilians attributed to AM (three cases, one reported twice), executions of
//! prisoners of war attributed to AZ (two cases), defilement of bodies attributed to AM, four
//! leaders charged in absentia and one soldier charged in person.
//!
//! Its figures, which the tests check through every reporting method:
//!
//! | case | party | crime type | week | victims | charges |
//! |---|---|---|---|---|---|
//! | shelling 1 | AM | icc.8.2.b.i | 2020-W41 | killed: 4 adult F, 3 child M, 2 elderly F; injured: 1 child F | 4 in absentia |
//! | shelling 2 | AM | icc.8.2.b.i | 2020-W41 | killed: 5 adult M, 2 child F | |
//! | shelling 3 | AM | icc.8.2.b.i | 2020-W42 | killed: 6 adult F, 1 elderly M | |
//! | execution 1 | AZ | icc.8.2.a.i | unknown | killed: 2 POW adult M | 1 in person |
//! | execution 2 | AZ | icc.8.2.a.i | unknown | killed: 1 POW adult M | |
//! | defilement | AM | icc.8.2.b.xxi | unknown | body defiled: 3 hors de combat adult M | |
//!
//! The victims' side: the civilians shelled and the bodies defiled are AZ's, the prisoners of
//! war executed AM's — 27 and 3 people harmed.
//!
//! A second report of shelling 1 (with its own count of four dead) is linked to it as a
//! duplicate and adds no victims. Totals: 6 cases, 30 people harmed (26 killed), 5 charges
//! against 5 persons.

use docket_e2e::{CaseClient, TestApp, case_message, snapshot};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;

/// The leaders charged in absentia: their names must never reach a report or an export.
pub const LEADERS: [&str; 4] = [
    "Arayik Harutyunyan",
    "Jalal Harutyunyan",
    "Mikael Arzumanyan",
    "Davit Manukyan",
];

/// What the tests need to know of the cases made.
pub struct Situation {
    /// References, in the order the cases were opened.
    pub shelling: [String; 3],
    pub executions: [String; 2],
    pub defilement: String,
    /// Ids of the first shelling case (the one with the leaders' charges) and of the
    /// defilement case.
    pub shelling_1_id: String,
    pub defilement_id: String,
}

/// A group of victims on AZ's side; the prisoners of war below are AM's.
fn group(
    count: i32,
    status: common::VictimStatus,
    harm: common::Harm,
    age_group: common::AgeGroup,
    sex: common::Sex,
) -> common::VictimGroup {
    common::VictimGroup {
        count,
        status: status.into(),
        harm: harm.into(),
        age_group: age_group.into(),
        sex: sex.into(),
        affiliation_party_code: "AZ".into(),
        age_band: 0,
    }
}

fn civilians_killed(
    count: i32,
    age_group: common::AgeGroup,
    sex: common::Sex,
) -> common::VictimGroup {
    group(
        count,
        common::VictimStatus::Civilian,
        common::Harm::Killed,
        age_group,
        sex,
    )
}

/// Delivers an allegation about `incident` through intake; the case it opened or joined.
async fn deliver(app: &TestApp, incident: pb::AllegationSnapshot) -> pb::Case {
    docket_e2e::deliver(app, incident).await.1
}

async fn get(cases: &mut CaseClient, id: &str) -> pb::Case {
    cases
        .get_case(pb::GetCaseRequest {
            case_id: id.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap()
}

/// Qualifies case `id` with `crime` and moves it under investigation.
pub(super) async fn investigate(app: &TestApp, id: &str, crime: &str) {
    let mut prosecutor = app.cases_as(Role::Prosecutor).await;
    let case = get(&mut prosecutor, id).await;
    let case = prosecutor
        .qualify_case(pb::QualifyCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            add_crime_type_codes: vec![crime.to_owned()],
            remove_crime_type_codes: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    prosecutor
        .transition_case(pb::TransitionCaseRequest {
            case_id: case.id.clone(),
            etag: case.etag.clone(),
            target_status: pb::CaseStatus::UnderInvestigation.into(),
            ..Default::default()
        })
        .await
        .unwrap();
}

/// Adds `name` as a suspect of case `id` and charges them with `crime`.
pub(super) async fn charge(app: &TestApp, id: &str, name: &str, crime: &str, in_absentia: bool) {
    let suspect = app
        .cases()
        .await
        .add_person(pb::AddPersonRequest {
            case_id: id.to_owned(),
            etag: String::new(),
            person: Some(pb::Person {
                role: pb::PersonRole::Suspect.into(),
                display_name: name.to_owned(),
                affiliation_party_code: "AM".into(),
                mode_of_liability: pb::ModeOfLiability::CommandResponsibility.into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .person
        .unwrap();
    app.cases_as(Role::Prosecutor)
        .await
        .file_charge(pb::FileChargeRequest {
            case_id: id.to_owned(),
            etag: String::new(),
            person_id: suspect.id,
            crime_type_code: crime.to_owned(),
            in_absentia,
            filed_date: "2020-12-02".into(),
        })
        .await
        .unwrap();
}

/// A case opened by hand against `party` with `victims`, qualified with `crime`.
async fn by_hand(
    app: &TestApp,
    title: &str,
    party: &str,
    victims: Vec<common::VictimGroup>,
    crime: &str,
) -> pb::Case {
    let mut case = case_message(title, party);
    case.victims = victims;
    let opened = app
        .cases()
        .await
        .open_case(pb::OpenCaseRequest { r#case: Some(case) })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    investigate(app, &opened.id, crime).await;
    opened
}

/// Builds the situation in `app`.
pub async fn build(app: &TestApp) -> Situation {
    use common::AgeGroup::{Adult, Child, Elderly};
    use common::Sex::{Female, Male};
    let mut first = snapshot(1);
    first.victims = vec![
        civilians_killed(4, Adult, Female),
        civilians_killed(3, Child, Male),
        civilians_killed(2, Elderly, Female),
        group(
            1,
            common::VictimStatus::Civilian,
            common::Harm::Injured,
            Child,
            Female,
        ),
    ];
    let (first, shelling_1) = docket_e2e::deliver(app, first).await;
    let mut second = snapshot(2);
    second.victims = vec![
        civilians_killed(5, Adult, Male),
        civilians_killed(2, Child, Female),
    ];
    let shelling_2 = deliver(app, second).await;
    let mut third = snapshot(3);
    third.victims = vec![
        civilians_killed(6, Adult, Female),
        civilians_killed(1, Elderly, Male),
    ];
    if let Some(start) = third
        .incident_period
        .as_mut()
        .and_then(|p| p.start_time.as_mut())
    {
        start.seconds += 7 * 86_400; // a week later: 2020-W42
    }
    let shelling_3 = deliver(app, third).await;
    let mut repeat = snapshot(4);
    repeat.duplicate_of_id = first.id.clone();
    repeat.victims = vec![civilians_killed(4, Adult, Female)];
    let linked = deliver(app, repeat).await;
    assert_eq!(linked.id, shelling_1.id, "the repeat joins the first case");
    for case in [&shelling_1, &shelling_2, &shelling_3] {
        investigate(app, &case.id, "icc.8.2.b.i").await;
    }
    for leader in LEADERS {
        charge(app, &shelling_1.id, leader, "icc.8.2.b.i", true).await;
    }

    let pow = |count| common::VictimGroup {
        affiliation_party_code: "AM".into(),
        ..group(
            count,
            common::VictimStatus::PrisonerOfWar,
            common::Harm::Killed,
            Adult,
            Male,
        )
    };
    let execution_1 = by_hand(
        app,
        "Execution of prisoners of war, video 1",
        "AZ",
        vec![pow(2)],
        "icc.8.2.a.i",
    )
    .await;
    let execution_2 = by_hand(
        app,
        "Execution of prisoners of war, video 2",
        "AZ",
        vec![pow(1)],
        "icc.8.2.a.i",
    )
    .await;
    let defiled = group(
        3,
        common::VictimStatus::HorsDeCombat,
        common::Harm::BodyDefiled,
        Adult,
        Male,
    );
    let defilement = by_hand(
        app,
        "Defilement of bodies",
        "AM",
        vec![defiled],
        "icc.8.2.b.xxi",
    )
    .await;
    charge(
        app,
        &execution_1.id,
        "Soldier of unit 1",
        "icc.8.2.a.i",
        false,
    )
    .await;
    Situation {
        shelling_1_id: shelling_1.id.clone(),
        defilement_id: defilement.id.clone(),
        shelling: [
            shelling_1.reference,
            shelling_2.reference,
            shelling_3.reference,
        ],
        executions: [execution_1.reference, execution_2.reference],
        defilement: defilement.reference,
    }
}
