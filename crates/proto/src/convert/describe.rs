//! Wire values as the short readable text a record's history keeps of them ("2 civilian killed
//! adult female"), the same in every service. Enum values are their wire names without the
//! enum's prefix, in lower case; an enum number the contract lacks reads `unknown(N)`.

use chrono::SecondsFormat;

use super::time::parse_time;
use crate::docket::common::v1 as common;

/// The wire name of enum value `raw` of `E` without `prefix`, lower-cased.
fn name<E: TryFrom<i32>>(raw: i32, prefix: &str, as_str: fn(&E) -> &'static str) -> String {
    match E::try_from(raw) {
        Ok(value) => {
            let full = as_str(&value);
            full.strip_prefix(prefix).unwrap_or(full).to_lowercase()
        }
        Err(_) => format!("unknown({raw})"),
    }
}

/// A violation type, such as `attack_on_civilians`.
pub fn violation_type(raw: i32) -> String {
    name(raw, "VIOLATION_TYPE_", common::ViolationType::as_str_name)
}

/// A victim group, such as `2 civilian killed adult female`, then the children's age band and
/// the victims' side where known: `3 civilian killed child male under_5, side AZ`.
pub fn victim_group(group: &common::VictimGroup) -> String {
    let mut text = format!(
        "{} {} {} {} {}",
        group.count,
        name(
            group.status,
            "VICTIM_STATUS_",
            common::VictimStatus::as_str_name
        ),
        name(group.harm, "HARM_", common::Harm::as_str_name),
        name(group.age_group, "AGE_GROUP_", common::AgeGroup::as_str_name),
        name(group.sex, "SEX_", common::Sex::as_str_name),
    );
    if group.age_band != 0 {
        text.push(' ');
        text.push_str(&name(
            group.age_band,
            "AGE_BAND_",
            common::AgeBand::as_str_name,
        ));
    }
    if !group.affiliation_party_code.is_empty() {
        text.push_str(", side ");
        text.push_str(&group.affiliation_party_code);
    }
    text
}

/// An alleged perpetrator, such as `AM, 4th brigade: rocket artillery`.
pub fn perpetrator(p: &common::AllegedPerpetrator) -> String {
    let who: Vec<&str> = [p.party_code.as_str(), p.unit.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    match (who.is_empty(), p.description.is_empty()) {
        (_, true) => who.join(", "),
        (true, false) => p.description.clone(),
        (false, false) => format!("{}: {}", who.join(", "), p.description),
    }
}

/// An instant as RFC 3339 in UTC, or `invalid time`.
pub fn time(t: &prost_types::Timestamp) -> String {
    parse_time(t).map_or_else(
        |_| "invalid time".to_owned(),
        |t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    )
}

/// An incident period, such as `2020-10-11T02:00:00Z to 2020-10-11T05:00:00Z (hour)`.
pub fn period(p: &common::IncidentPeriod) -> String {
    let start = p.start_time.as_ref().map_or_else(String::new, time);
    let precision = name(
        p.precision,
        "TIME_PRECISION_",
        common::TimePrecision::as_str_name,
    );
    match &p.end_time {
        Some(end) => format!("{start} to {} ({precision})", time(end)),
        None => format!("{start} ({precision})"),
    }
}

/// A location, such as `Ganja, Shahriyar street; Ganja; AZ; 40.6828, 46.3606 (neighbourhood)`.
pub fn location(l: &common::Location) -> String {
    let mut parts: Vec<String> = [&l.place_name, &l.admin_area, &l.country_code]
        .into_iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    if let (Some(lat), Some(lon)) = (l.latitude, l.longitude) {
        parts.push(format!("{lat}, {lon}"));
    }
    let precision = name(
        l.precision,
        "LOCATION_PRECISION_",
        common::LocationPrecision::as_str_name,
    );
    format!("{} ({precision})", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_short_text() {
        let group = common::VictimGroup {
            count: 2,
            status: common::VictimStatus::PrisonerOfWar.into(),
            harm: common::Harm::Killed.into(),
            age_group: common::AgeGroup::Adult.into(),
            sex: common::Sex::Male.into(),
            ..common::VictimGroup::default()
        };
        assert_eq!(victim_group(&group), "2 prisoner_of_war killed adult male");
        let children = common::VictimGroup {
            age_group: common::AgeGroup::Child.into(),
            age_band: common::AgeBand::Under5.into(),
            affiliation_party_code: "AM".into(),
            ..group
        };
        assert_eq!(
            victim_group(&children),
            "2 prisoner_of_war killed child male under_5, side AM"
        );
        assert_eq!(violation_type(99), "unknown(99)");
        let p = common::AllegedPerpetrator {
            party_code: "AZ".into(),
            unit: String::new(),
            description: "drone strike".into(),
        };
        assert_eq!(perpetrator(&p), "AZ: drone strike");
        let when = common::IncidentPeriod {
            start_time: Some(prost_types::Timestamp {
                seconds: 1_602_381_600,
                nanos: 0,
            }),
            end_time: None,
            precision: common::TimePrecision::Hour.into(),
        };
        assert_eq!(period(&when), "2020-10-11T02:00:00Z (hour)");
    }
}
