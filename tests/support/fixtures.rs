//! Requests as a real intake officer would send them, and helpers to read answers.

use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use tonic_types::StatusExt;

/// A realistic allegation from the seed situation: shelling of a residential street, two women
/// killed and a child injured, party `AM` alleged.
pub fn allegation() -> pb::Allegation {
    pb::Allegation {
        channel: pb::Channel::NgoSubmission.into(),
        source: Some(pb::Source {
            anonymous: false,
            name: "Leyla Mammadova".into(),
            contact: "+994 50 000 00 00".into(),
            redacted: false,
        }),
        narrative: "At about 02:00 several rockets hit Shahriyar street. Two women were killed \
                    in their home; a boy of eight was injured by shrapnel."
            .into(),
        language: "az".into(),
        incident_period: Some(common::IncidentPeriod {
            start_time: Some(prost_types::Timestamp {
                seconds: 1_602_381_600, // 2020-10-11T02:00:00Z
                nanos: 0,
            }),
            end_time: Some(prost_types::Timestamp {
                seconds: 1_602_385_200,
                nanos: 0,
            }),
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
            common::VictimGroup {
                count: 2,
                status: common::VictimStatus::Civilian.into(),
                harm: common::Harm::Killed.into(),
                age_group: common::AgeGroup::Adult.into(),
                sex: common::Sex::Female.into(),
                ..Default::default()
            },
            common::VictimGroup {
                count: 1,
                status: common::VictimStatus::Civilian.into(),
                harm: common::Harm::Injured.into(),
                age_group: common::AgeGroup::Child.into(),
                sex: common::Sex::Male.into(),
                ..Default::default()
            },
        ],
        source_urls: vec!["https://example.org/reports/ganja-2020-10-11".into()],
        ..pb::Allegation::default()
    }
}

/// A submission of `allegation` under a fresh request id.
pub fn submit_request(allegation: pb::Allegation) -> pb::SubmitAllegationRequest {
    pb::SubmitAllegationRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        allegation: Some(allegation),
    }
}

/// The fields a `google.rpc.BadRequest` in `status` names, in order.
pub fn field_violations(status: &tonic::Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}
