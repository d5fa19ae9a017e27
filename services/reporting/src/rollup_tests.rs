//! The rollups against the fact tables: after a random history of allegations and cases —
//! recorded, changed, re-qualified, charged — every statistic the rollups answer must equal the
//! GROUP BY it stands for.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed expectation is a failed test

use docket_platform::db::{begin_write, connect_and_migrate};
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::events::v1::event_payload::Kind;
use docket_proto::docket::reporting::v1 as pb;

use crate::Migrator;
use crate::projector::apply_events;
use crate::rollup;
use crate::statistics::{self, Query};

/// A small deterministic generator (the test must fail the same way twice).
pub(crate) struct Dice(pub(crate) u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % sides
    }

    pub(crate) fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.roll(from.len() as u64) as usize]
    }

    fn some(&mut self, from: &[&str]) -> Vec<String> {
        (0..self.roll(3))
            .map(|_| self.pick(from).to_owned())
            .collect()
    }
}

const PARTIES: &[&str] = &["AM", "AZ", "XX"];
const PARTIES_OR_NONE: &[&str] = &["AM", "AZ", ""];
const CRIMES: &[&str] = &["icc.8.2.b.i", "icc.8.2.a.i", "icc.8.2.b.xxi"];
const PLACES: &[&str] = &["Ganja", "Stepanakert", ""];

fn time(day: u64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: 1_601_510_400 + (day * 86_400) as i64,
        nanos: 0,
    }
}

fn victims(dice: &mut Dice) -> Vec<common::VictimGroup> {
    (0..dice.roll(4))
        .map(|_| common::VictimGroup {
            count: dice.roll(9) as i32,
            status: dice.roll(11) as i32,
            harm: dice.roll(10) as i32,
            age_group: dice.roll(5) as i32,
            sex: dice.roll(4) as i32,
            affiliation_party_code: dice.pick(PARTIES_OR_NONE).to_owned(),
            age_band: dice.roll(4) as i32,
        })
        .collect()
}

pub(crate) fn allegation(dice: &mut Dice, n: u64) -> Kind {
    Kind::AllegationRecorded(recorded(dice, n))
}

pub(crate) fn recorded(dice: &mut Dice, n: u64) -> ev::AllegationRecorded {
    ev::AllegationRecorded {
        allegation_id: format!("a{n}"),
        status: "ALLEGATION_STATUS_RECEIVED".into(),
        received_time: Some(time(n)),
        violation_types: (0..dice.roll(3)).map(|_| dice.roll(8) as i32).collect(),
        party_codes: dice.some(PARTIES),
        victims: victims(dice),
        incident_start_time: (dice.roll(4) > 0).then(|| time(dice.roll(30))),
        place_name: dice.pick(PLACES).to_owned(),
        ..Default::default()
    }
}

pub(crate) fn case(dice: &mut Dice, n: u64) -> Kind {
    Kind::CaseChanged(ev::CaseChanged {
        case_id: format!("c{n}"),
        status: dice
            .pick(&["CASE_STATUS_OPEN", "CASE_STATUS_CLOSED"])
            .to_owned(),
        party_codes: dice.some(PARTIES),
        crime_type_codes: dice.some(CRIMES),
        victims: victims(dice),
        incident_start_time: (dice.roll(4) > 0).then(|| time(dice.roll(30))),
        place_name: dice.pick(PLACES).to_owned(),
        charges: (0..dice.roll(3))
            .map(|i| ev::ChargeState {
                charge_id: format!("c{n}-g{i}"),
                person_id: format!("p{}", dice.roll(5)),
                crime_type_code: dice.pick(CRIMES).to_owned(),
                in_absentia: dice.roll(2) == 0,
                status: dice
                    .pick(&[
                        "CHARGE_STATUS_FILED",
                        "CHARGE_STATUS_WITHDRAWN",
                        "CHARGE_STATUS_CONVICTED",
                        "CHARGE_STATUS_ACQUITTED",
                    ])
                    .to_owned(),
            })
            .collect(),
        close_reason: dice
            .pick(&[
                "",
                "",
                "",
                "CLOSE_REASON_NOT_A_CRIME",
                "CLOSE_REASON_MERGED",
            ])
            .to_owned(),
        only_fabricated_evidence: dice.roll(6) == 0,
        ..Default::default()
    })
}

pub(crate) const DIMENSIONS: [pb::Dimension; 16] = [
    pb::Dimension::Party,
    pb::Dimension::CrimeType,
    pb::Dimension::ViolationType,
    pb::Dimension::CaseStatus,
    pb::Dimension::AllegationStatus,
    pb::Dimension::VictimStatus,
    pb::Dimension::Harm,
    pb::Dimension::AgeGroup,
    pb::Dimension::Sex,
    pb::Dimension::InAbsentia,
    pb::Dimension::IncidentWeek,
    pb::Dimension::Place,
    pb::Dimension::VictimParty,
    pb::Dimension::AgeBand,
    pb::Dimension::Verification,
    pb::Dimension::ChargeStatus,
];

#[tokio::test]
async fn every_rollup_equals_its_group_by() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
    let settings = docket_platform::Settings::defaults().unwrap();
    let db = connect_and_migrate::<Migrator>(&url, &settings.database)
        .await
        .unwrap();
    let mut dice = Dice(7);
    // Events go in batches of 1 to 8, applied as the projector applies them: new allegations
    // together, the rollups once per batch; an item recorded and changed in one batch must
    // come out right too.
    let mut batch = Vec::new();
    for step in 0..300 {
        // Items are recorded and then changed again and again (ids repeat), so rollups are
        // taken away from as well as added to.
        let n = dice.roll(40);
        let kind = match step % 4 {
            0 => allegation(&mut dice, n),
            // A correction replaces what an allegation counted under.
            3 => Kind::AllegationCorrected(ev::AllegationCorrected {
                allegation: Some(recorded(&mut dice, n)),
            }),
            1 => Kind::AllegationStatusChanged(ev::AllegationStatusChanged {
                allegation_id: format!("a{n}"),
                status: dice
                    .pick(&["ALLEGATION_STATUS_ACCEPTED", "ALLEGATION_STATUS_REJECTED"])
                    .to_owned(),
                ..Default::default()
            }),
            _ => case(&mut dice, n),
        };
        batch.push(ev::Event {
            payload: Some(ev::EventPayload { kind: Some(kind) }),
            ..Default::default()
        });
        if batch.len() as u64 > dice.roll(8) || step == 299 {
            let txn = begin_write(&db).await.unwrap();
            apply_events(&txn, &batch).await.unwrap();
            txn.commit().await.unwrap();
            batch.clear();
        }
    }

    let mut compared = 0;
    for measure in [
        pb::Measure::Allegations,
        pb::Measure::Cases,
        pb::Measure::Victims,
        pb::Measure::Charges,
    ] {
        let applicable: Vec<pb::Dimension> = DIMENSIONS
            .into_iter()
            .filter(|d| statistics::applies(measure, *d))
            .collect();
        let mut groupings = vec![vec![]];
        for a in &applicable {
            groupings.push(vec![*a]);
            for b in &applicable {
                if a != b {
                    groupings.push(vec![*a, *b]);
                }
            }
        }
        for group_by in groupings {
            assert!(rollup::covers(measure, &group_by, 0, false));
            let query = Query {
                measure,
                group_by: group_by.clone(),
                filters: vec![],
                public: false,
                include_uncounted: false,
            };
            let from_facts = statistics::count(&db, &query).await.unwrap();
            let from_rollups = rollup::read(&db, measure, &group_by).await.unwrap();
            assert_eq!(from_rollups, from_facts, "{measure:?} by {group_by:?}");
            assert!(from_facts.0 > 0, "{measure:?}: nothing counted");
            compared += 1;
        }
    }
    assert!(compared > 100, "only {compared} statistics compared");
}
