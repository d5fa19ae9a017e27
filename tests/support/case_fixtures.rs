//! Case-management requests as intake's dispatcher and the office's staff would send them.

use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;

/// A delivered allegation `ALG-2020-<number>` about shelling by party `AM`: two women killed and
/// a child injured in Ganja, as in the seed situation.
pub fn snapshot(number: u32) -> pb::AllegationSnapshot {
    pb::AllegationSnapshot {
        id: uuid::Uuid::now_v7().to_string(),
        reference: format!("ALG-2020-{number:06}"),
        received_at: Some(prost_types::Timestamp {
            seconds: 1_602_500_000,
            nanos: 0,
        }),
        violation_types: vec![
            common::ViolationType::AttackOnCivilians.into(),
            common::ViolationType::Killing.into(),
        ],
        alleged_perpetrators: vec![common::AllegedPerpetrator {
            party_code: "AM".into(),
            unit: String::new(),
            description: "rocket artillery".into(),
        }],
        victims: vec![
            victims(
                2,
                common::Harm::Killed,
                common::AgeGroup::Adult,
                common::Sex::Female,
            ),
            victims(
                1,
                common::Harm::Injured,
                common::AgeGroup::Child,
                common::Sex::Male,
            ),
        ],
        incident_period: Some(common::IncidentPeriod {
            start_time: Some(prost_types::Timestamp {
                seconds: 1_602_381_600, // 2020-10-11T02:00:00Z
                nanos: 0,
            }),
            end_time: None,
            precision: common::TimePrecision::Hour.into(),
        }),
        location: Some(common::Location {
            place_name: "Ganja, Shahriyar street".into(),
            admin_area: "Ganja".into(),
            country_code: "AZ".into(),
            latitude: Some(40.6828),
            longitude: Some(46.3606),
            precision: common::LocationPrecision::Neighbourhood.into(),
        }),
        duplicate_of_id: String::new(),
        join_case_id: String::new(),
    }
}

/// Civilian victims.
fn victims(
    count: i32,
    harm: common::Harm,
    age_group: common::AgeGroup,
    sex: common::Sex,
) -> common::VictimGroup {
    common::VictimGroup {
        count,
        status: common::VictimStatus::Civilian.into(),
        harm: harm.into(),
        age_group: age_group.into(),
        sex: sex.into(),
        ..Default::default()
    }
}

/// A case opened by hand against `party` with `title`.
pub fn case_message(title: &str, party: &str) -> pb::Case {
    pb::Case {
        title: title.into(),
        summary: "Opened on the prosecutor general's instruction.".into(),
        party_codes: vec![party.into()],
        violation_types: vec![common::ViolationType::Killing.into()],
        victims: vec![common::VictimGroup {
            count: 1,
            status: common::VictimStatus::PrisonerOfWar.into(),
            harm: common::Harm::Killed.into(),
            age_group: common::AgeGroup::Adult.into(),
            sex: common::Sex::Male.into(),
            ..Default::default()
        }],
        ..pb::Case::default()
    }
}
