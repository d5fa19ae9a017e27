//! Domain → wire → domain is the identity wherever both directions exist: instants, every enum,
//! victim groups. Generated values, a fixed seed and a bounded number of cases;
//! `PROPTEST_CASES=100000` runs more with a random seed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: failing loudly is their job

use chrono::{DateTime, Utc};
use docket_domain::Violations;
use docket_domain::incident::VictimGroup;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use prost_types::Timestamp;

use super::enums::decode_enum;
use super::{incident, parse_time, timestamp};
use crate::docket::cases::v1 as cases;
use crate::docket::common::v1 as common;
use crate::docket::intake::v1 as intake;

fn config() -> Config {
    let mut config = Config {
        failure_persistence: None,
        max_shrink_iters: 20_000,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 2_000;
        config.rng_seed = RngSeed::Fixed(0x0d0c_6e7a_0000_0006);
    }
    config
}

/// Every raw number of every wire enum: decoded into the domain, what comes back on the wire
/// is the same number.
fn enum_round_trips(raw: i32) -> Result<(), TestCaseError> {
    macro_rules! check {
        ($($wire:ty => $domain:ty),+ $(,)?) => {$(
            let mut v = Violations::default();
            if let Some(domain) = decode_enum::<$wire, $domain>(&mut v, "f", raw) {
                prop_assert_eq!(i32::from(<$wire>::from(domain)), raw, "{}", stringify!($wire));
            }
        )+};
    }
    use docket_domain::allegation::{AllegationStatus, Channel};
    use docket_domain::case::{
        AssessmentMethod, CaseStatus, ChargeStatus, CloseReason, ModeOfLiability, PersonRole,
        ProtectiveMeasure, Verdict,
    };
    use docket_domain::content::{Confidence, ContentMethod};
    use docket_domain::evidence::{CollectionMethod, CustodyEventKind};
    use docket_domain::incident::{
        AgeBand, AgeGroup, Harm, LocationPrecision, Sex, TimePrecision, VictimStatus, ViolationType,
    };
    check!(
        common::ViolationType => ViolationType,
        common::TimePrecision => TimePrecision,
        common::LocationPrecision => LocationPrecision,
        common::VictimStatus => VictimStatus,
        common::Harm => Harm,
        common::AgeBand => AgeBand,
        common::AgeGroup => AgeGroup,
        common::Sex => Sex,
        intake::Channel => Channel,
        intake::AllegationStatus => AllegationStatus,
        cases::CaseStatus => CaseStatus,
        cases::CloseReason => CloseReason,
        cases::PersonRole => PersonRole,
        cases::ModeOfLiability => ModeOfLiability,
        cases::ProtectiveMeasure => ProtectiveMeasure,
        cases::ChargeStatus => ChargeStatus,
        cases::Verdict => Verdict,
        cases::AssessmentMethod => AssessmentMethod,
        intake::CollectionMethod => CollectionMethod,
        intake::CustodyEventKind => CustodyEventKind,
        intake::ContentVerdict => Verdict,
        intake::ContentAssessmentMethod => ContentMethod,
        intake::AssessmentConfidence => Confidence,
    );
    Ok(())
}

fn victim_group(wire: common::VictimGroup) -> Option<VictimGroup> {
    let mut v = Violations::default();
    let input = incident::victims(&mut v, "victims", vec![wire]).pop()?;
    let parsed = VictimGroup::parse(input).ok()?;
    v.is_empty().then_some(parsed)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn an_instant_survives_the_wire(
        seconds in -62_135_596_800i64..=253_402_300_799,
        nanos in 0u32..1_000_000_000,
    ) {
        let time = DateTime::<Utc>::from_timestamp(seconds, nanos).unwrap();
        prop_assert_eq!(parse_time(&timestamp(time)), Ok(time));
    }

    #[test]
    fn a_timestamp_is_refused_or_read_as_itself(seconds in any::<i64>(), nanos in any::<i32>()) {
        let wire = Timestamp { seconds, nanos };
        if let Ok(time) = parse_time(&wire) {
            prop_assert_eq!(timestamp(time), wire);
        }
    }

    #[test]
    fn every_enum_number_read_into_the_domain_goes_back_as_itself(raw in prop_oneof![-2..40i32, any::<i32>()]) {
        enum_round_trips(raw)?;
    }

    #[test]
    fn a_victim_group_read_into_the_domain_goes_back_and_reads_the_same(
        count in prop_oneof![0..3i32, any::<i32>(), 999_990..1_000_010i32],
        (status, harm, age_group, sex, age_band) in (-1..8i32, -1..8i32, -1..8i32, -1..8i32, -1..6i32),
        party in prop_oneof![Just(String::new()), "[A-Z]{2,3}(-[A-Z0-9]{1,3})?", "\\PC{0,6}"],
    ) {
        let wire = common::VictimGroup {
            count,
            status,
            harm,
            age_group,
            sex,
            affiliation_party_code: party,
            age_band,
        };
        if let Some(domain) = victim_group(wire) {
            let back = common::VictimGroup::from(domain.clone());
            prop_assert_eq!(victim_group(back), Some(domain));
        }
    }
}
