//! What happened, when, where, by whom and to whom: the vocabulary shared by allegations and cases.

use chrono::{DateTime, Duration, Utc};

use crate::Violations;
use crate::coded::coded_enum;
use crate::party::PartyCode;
use crate::text::optional_bounded;

coded_enum! {
    /// A kind of violation as first reported; not a legal qualification.
    pub enum ViolationType {
        Killing => "killing",
        IllTreatment => "ill_treatment",
        Torture => "torture",
        DesecrationOfBodies => "desecration_of_bodies",
        AttackOnCivilians => "attack_on_civilians",
        AttackOnCivilianObjects => "attack_on_civilian_objects",
        SexualViolence => "sexual_violence",
        EnforcedDisappearance => "enforced_disappearance",
        HostageTaking => "hostage_taking",
        Pillage => "pillage",
        ForcedDisplacement => "forced_displacement",
        UseOfProhibitedWeapons => "use_of_prohibited_weapons",
        Other => "other",
        IndiscriminateAttack => "indiscriminate_attack",
        AttackOnHospitals => "attack_on_hospitals",
        AttackOnSchools => "attack_on_schools",
        AttackOnCulturalProperty => "attack_on_cultural_property",
        OutrageUponPersonalDignity => "outrage_upon_personal_dignity",
    }
}

impl ViolationType {
    /// The war crimes of the Rome Statute's article 8 a violation of this type may amount to,
    /// by their codes in the built-in taxonomy: the first qualification an analyst looks at,
    /// never assigned by itself. Empty for `other`.
    pub fn rome_statute_art8(self) -> &'static [&'static str] {
        use ViolationType::*;
        match self {
            Killing => &["icc.8.2.a.i", "icc.8.2.b.vi"],
            IllTreatment => &["icc.8.2.a.ii", "icc.8.2.a.iii", "icc.8.2.b.xxi"],
            Torture => &["icc.8.2.a.ii"],
            DesecrationOfBodies => &["icc.8.2.b.xxi"],
            AttackOnCivilians => &["icc.8.2.b.i"],
            AttackOnCivilianObjects => &["icc.8.2.b.ii", "icc.8.2.b.v"],
            SexualViolence => &["icc.8.2.b.xxii"],
            EnforcedDisappearance => &["icc.8.2.a.vii"],
            HostageTaking => &["icc.8.2.a.viii"],
            Pillage => &["icc.8.2.b.xvi", "icc.8.2.a.iv"],
            ForcedDisplacement => &["icc.8.2.a.vii", "icc.8.2.b.viii"],
            UseOfProhibitedWeapons => &[
                "icc.8.2.b.xvii",
                "icc.8.2.b.xviii",
                "icc.8.2.b.xix",
                "icc.8.2.b.xx",
            ],
            IndiscriminateAttack => &["icc.8.2.b.iv", "icc.8.2.b.v"],
            AttackOnHospitals => &["icc.8.2.b.ix", "icc.8.2.b.xxiv"],
            AttackOnSchools => &["icc.8.2.b.ix"],
            AttackOnCulturalProperty => &["icc.8.2.b.ix"],
            OutrageUponPersonalDignity => &["icc.8.2.b.xxi"],
            Other => &[],
        }
    }
}

coded_enum! {
    /// How exactly a time is known.
    pub enum TimePrecision {
        Exact => "exact",
        Hour => "hour",
        Day => "day",
        Week => "week",
        Month => "month",
        Year => "year",
    }
}

coded_enum! {
    /// How exactly a place is known.
    pub enum LocationPrecision {
        Exact => "exact",
        Neighbourhood => "neighbourhood",
        Settlement => "settlement",
        AdminArea => "admin_area",
        Country => "country",
    }
}

coded_enum! {
    /// Status of victims under international humanitarian law.
    pub enum VictimStatus {
        Civilian => "civilian",
        Combatant => "combatant",
        PrisonerOfWar => "prisoner_of_war",
        HorsDeCombat => "hors_de_combat",
        Unknown => "unknown",
        CivilianDetainee => "civilian_detainee",
        MedicalPersonnel => "medical_personnel",
        ReligiousPersonnel => "religious_personnel",
        Journalist => "journalist",
        HumanitarianWorker => "humanitarian_worker",
    }
}

coded_enum! {
    /// The harm victims suffered.
    pub enum Harm {
        Killed => "killed",
        Injured => "injured",
        IllTreated => "ill_treated",
        BodyDefiled => "body_defiled",
        Missing => "missing",
        Detained => "detained",
        Tortured => "tortured",
        SexualViolence => "sexual_violence",
        Displaced => "displaced",
    }
}

coded_enum! {
    /// Age group of victims.
    pub enum AgeGroup {
        Child => "child",
        Adult => "adult",
        Elderly => "elderly",
        Unknown => "unknown",
    }
}

coded_enum! {
    /// How old children are, where known.
    pub enum AgeBand {
        Under5 => "under_5",
        From5To11 => "from_5_to_11",
        From12To17 => "from_12_to_17",
    }
}

coded_enum! {
    /// Sex of victims.
    pub enum Sex {
        Female => "female",
        Male => "male",
        Unknown => "unknown",
    }
}

/// How far ahead of the service's clock an incident time may lie, to allow for clock skew.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// When an incident happened: a start, an optional end not before it, neither in the future.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentPeriod {
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    precision: TimePrecision,
}

impl IncidentPeriod {
    /// Checks the period against `now`. Field paths: `start_time`, `end_time`, `precision`.
    pub fn parse(
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
        precision: Option<TimePrecision>,
        now: DateTime<Utc>,
    ) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        let latest = now + CLOCK_SKEW;
        if start.is_none() {
            violations.add("start_time", "is required");
        }
        if precision.is_none() {
            violations.add("precision", "is required");
        }
        if start.is_some_and(|start| start > latest) {
            violations.add("start_time", "must not be in the future");
        }
        if let Some(end) = end {
            if end > latest {
                violations.add("end_time", "must not be in the future");
            }
            if start.is_some_and(|start| end < start) {
                violations.add("end_time", "must not be before start_time");
            }
        }
        match (start, precision) {
            (Some(start), Some(precision)) if violations.is_empty() => Ok(Self {
                start,
                end,
                precision,
            }),
            _ => Err(violations),
        }
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> Option<DateTime<Utc>> {
        self.end
    }

    pub fn precision(&self) -> TimePrecision {
        self.precision
    }
}

/// Where an incident happened: a place name or coordinates (or both), with a precision.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    place_name: Option<String>,
    admin_area: Option<String>,
    country_code: Option<String>,
    coordinates: Option<(f64, f64)>,
    precision: LocationPrecision,
}

/// The raw parts of a [`Location`], as they arrive.
#[derive(Debug, Clone, Default)]
pub struct LocationInput {
    pub place_name: String,
    pub admin_area: String,
    pub country_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub precision: Option<LocationPrecision>,
}

impl Location {
    pub const MAX_NAME_CHARS: usize = 200;

    /// Field paths: `place_name`, `admin_area`, `country_code`, `latitude`, `longitude`,
    /// `precision`.
    pub fn parse(input: LocationInput) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        let place_name = violations
            .check(
                "place_name",
                optional_bounded(input.place_name, Self::MAX_NAME_CHARS),
            )
            .flatten();
        let admin_area = violations
            .check(
                "admin_area",
                optional_bounded(input.admin_area, Self::MAX_NAME_CHARS),
            )
            .flatten();
        let country_code = match input.country_code.as_str() {
            "" => None,
            code if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) => {
                Some(code.to_owned())
            }
            _ => {
                violations.add(
                    "country_code",
                    "must be an ISO 3166-1 alpha-2 code in upper case, such as `AZ`",
                );
                None
            }
        };
        if let Some(latitude) = input.latitude
            && !(-90.0..=90.0).contains(&latitude)
        {
            violations.add("latitude", "must be between -90 and 90 degrees");
        }
        if let Some(longitude) = input.longitude
            && !(-180.0..=180.0).contains(&longitude)
        {
            violations.add("longitude", "must be between -180 and 180 degrees");
        }
        let coordinates = match (input.latitude, input.longitude) {
            (Some(latitude), Some(longitude)) => Some((latitude, longitude)),
            (None, None) => None,
            (Some(_), None) => {
                violations.add("longitude", "is required when latitude is given");
                None
            }
            (None, Some(_)) => {
                violations.add("latitude", "is required when longitude is given");
                None
            }
        };
        if place_name.is_none() && coordinates.is_none() && violations.is_empty() {
            violations.add("place_name", "a place name or coordinates are required");
        }
        if input.precision.is_none() {
            violations.add("precision", "is required");
        }
        match input.precision {
            Some(precision) if violations.is_empty() => Ok(Self {
                place_name,
                admin_area,
                country_code,
                coordinates,
                precision,
            }),
            _ => Err(violations),
        }
    }

    pub fn place_name(&self) -> Option<&str> {
        self.place_name.as_deref()
    }

    pub fn admin_area(&self) -> Option<&str> {
        self.admin_area.as_deref()
    }

    pub fn country_code(&self) -> Option<&str> {
        self.country_code.as_deref()
    }

    /// Latitude and longitude in degrees.
    pub fn coordinates(&self) -> Option<(f64, f64)> {
        self.coordinates
    }

    pub fn precision(&self) -> LocationPrecision {
        self.precision
    }
}

/// Someone alleged to have committed a violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllegedPerpetrator {
    party: Option<PartyCode>,
    unit: Option<String>,
    description: Option<String>,
}

impl AllegedPerpetrator {
    pub const MAX_UNIT_CHARS: usize = 200;
    pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

    /// Field paths: `party_code`, `unit`, `description`.
    pub fn parse(party_code: &str, unit: String, description: String) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        let party = match party_code {
            "" => None,
            code => violations.check("party_code", PartyCode::parse(code)),
        };
        let unit = violations
            .check("unit", optional_bounded(unit, Self::MAX_UNIT_CHARS))
            .flatten();
        let description = violations
            .check(
                "description",
                optional_bounded(description, Self::MAX_DESCRIPTION_CHARS),
            )
            .flatten();
        if violations.is_empty() && party.is_none() && unit.is_none() && description.is_none() {
            violations.add("", "give at least a party code, a unit or a description");
        }
        violations.into_result().map(|()| Self {
            party,
            unit,
            description,
        })
    }

    pub fn party(&self) -> Option<&PartyCode> {
        self.party.as_ref()
    }

    pub fn unit(&self) -> Option<&str> {
        self.unit.as_deref()
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
}

/// The raw parts of a victim group; a `None` category was left unspecified.
#[derive(Debug, Clone, Default)]
pub struct VictimGroupInput {
    pub count: i64,
    pub status: Option<VictimStatus>,
    pub harm: Option<Harm>,
    pub age_group: Option<AgeGroup>,
    pub sex: Option<Sex>,
    /// The victims' side; empty when not known.
    pub affiliation_party_code: String,
    pub age_band: Option<AgeBand>,
}

/// A number of victims sharing status, harm, age group, sex and side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VictimGroup {
    pub count: u32,
    pub status: VictimStatus,
    pub harm: Harm,
    pub age_group: AgeGroup,
    pub sex: Sex,
    /// The party the victims belong to, when known.
    pub affiliation: Option<PartyCode>,
    /// Only for children, when known.
    pub age_band: Option<AgeBand>,
}

impl VictimGroup {
    pub const MAX_COUNT: i64 = 1_000_000;

    /// Field paths: `count`, `status`, `harm`, `age_group`, `sex`, `affiliation_party_code`,
    /// `age_band`.
    pub fn parse(input: VictimGroupInput) -> Result<Self, Violations> {
        let VictimGroupInput {
            count,
            status,
            harm,
            age_group,
            sex,
            affiliation_party_code,
            age_band,
        } = input;
        let mut violations = Violations::default();
        let count = match u32::try_from(count) {
            Ok(count) if count >= 1 && i64::from(count) <= Self::MAX_COUNT => Some(count),
            _ => {
                violations.add(
                    "count",
                    format!("must be from 1 to {}, got {count}", Self::MAX_COUNT),
                );
                None
            }
        };
        for (field, missing) in [
            ("status", status.is_none()),
            ("harm", harm.is_none()),
            ("age_group", age_group.is_none()),
            ("sex", sex.is_none()),
        ] {
            if missing {
                violations.add(field, "is required");
            }
        }
        let affiliation = match affiliation_party_code.as_str() {
            "" => None,
            code => violations.check("affiliation_party_code", PartyCode::parse(code)),
        };
        if age_band.is_some() && age_group.is_some_and(|g| g != AgeGroup::Child) {
            violations.add("age_band", "is only given for children (AGE_GROUP_CHILD)");
        }
        match (count, status, harm, age_group, sex) {
            (Some(count), Some(status), Some(harm), Some(age_group), Some(sex))
                if violations.is_empty() =>
            {
                Ok(Self {
                    count,
                    status,
                    harm,
                    age_group,
                    sex,
                    affiliation,
                    age_band,
                })
            }
            _ => Err(violations),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 10, day, 12, 0, 0).unwrap()
    }

    fn fields(violations: &Violations) -> Vec<&str> {
        violations.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn a_period_may_not_end_before_it_starts() {
        let error =
            IncidentPeriod::parse(Some(at(10)), Some(at(9)), Some(TimePrecision::Day), at(20))
                .unwrap_err();
        assert_eq!(fields(&error), ["end_time"]);
    }

    #[test]
    fn a_period_may_not_lie_in_the_future_beyond_clock_skew() {
        let now = at(10);
        assert!(
            IncidentPeriod::parse(
                Some(now + Duration::minutes(4)),
                None,
                Some(TimePrecision::Exact),
                now
            )
            .is_ok()
        );
        let error =
            IncidentPeriod::parse(Some(at(11)), Some(at(12)), Some(TimePrecision::Day), now)
                .unwrap_err();
        assert_eq!(fields(&error), ["start_time", "end_time"]);
    }

    #[test]
    fn a_period_needs_a_start_and_a_precision() {
        let error = IncidentPeriod::parse(None, None, None, at(10)).unwrap_err();
        assert_eq!(fields(&error), ["start_time", "precision"]);
    }

    #[test]
    fn coordinates_are_bounded_and_paired() {
        let error = Location::parse(LocationInput {
            latitude: Some(91.0),
            longitude: Some(-181.0),
            precision: Some(LocationPrecision::Exact),
            ..LocationInput::default()
        })
        .unwrap_err();
        assert_eq!(fields(&error), ["latitude", "longitude"]);
        let error = Location::parse(LocationInput {
            latitude: Some(40.0),
            precision: Some(LocationPrecision::Exact),
            ..LocationInput::default()
        })
        .unwrap_err();
        assert_eq!(fields(&error), ["longitude"]);
    }

    #[test]
    fn a_location_needs_a_name_or_coordinates() {
        let error = Location::parse(LocationInput {
            country_code: "AZ".into(),
            precision: Some(LocationPrecision::Country),
            ..LocationInput::default()
        })
        .unwrap_err();
        assert_eq!(fields(&error), ["place_name"]);
        let location = Location::parse(LocationInput {
            place_name: "Ganja".into(),
            country_code: "AZ".into(),
            precision: Some(LocationPrecision::Settlement),
            ..LocationInput::default()
        })
        .unwrap();
        assert_eq!(location.place_name(), Some("Ganja"));
    }

    #[test]
    fn a_victim_group_counts_at_least_one_person() {
        for count in [0, -3, VictimGroup::MAX_COUNT + 1] {
            let error = VictimGroup::parse(VictimGroupInput {
                count,
                ..children()
            })
            .unwrap_err();
            assert_eq!(fields(&error), ["count"], "{count}");
        }
    }

    fn children() -> VictimGroupInput {
        VictimGroupInput {
            count: 2,
            status: Some(VictimStatus::Civilian),
            harm: Some(Harm::Killed),
            age_group: Some(AgeGroup::Child),
            sex: Some(Sex::Female),
            ..VictimGroupInput::default()
        }
    }

    #[test]
    fn a_victim_group_needs_every_category() {
        let error = VictimGroup::parse(VictimGroupInput {
            count: 2,
            harm: Some(Harm::Killed),
            sex: Some(Sex::Male),
            ..VictimGroupInput::default()
        })
        .unwrap_err();
        assert_eq!(fields(&error), ["status", "age_group"]);
    }

    #[test]
    fn a_victim_group_records_the_victims_side_as_a_party_code() {
        let group = VictimGroup::parse(VictimGroupInput {
            affiliation_party_code: "AZ".into(),
            ..children()
        })
        .unwrap();
        assert_eq!(
            group.affiliation.as_ref().map(PartyCode::as_str),
            Some("AZ")
        );
        assert_eq!(VictimGroup::parse(children()).unwrap().affiliation, None);
        let error = VictimGroup::parse(VictimGroupInput {
            affiliation_party_code: "az".into(),
            ..children()
        })
        .unwrap_err();
        assert_eq!(fields(&error), ["affiliation_party_code"]);
    }

    #[test]
    fn only_children_have_an_age_band() {
        let group = VictimGroup::parse(VictimGroupInput {
            age_band: Some(AgeBand::Under5),
            ..children()
        })
        .unwrap();
        assert_eq!(group.age_band, Some(AgeBand::Under5));
        let error = VictimGroup::parse(VictimGroupInput {
            age_group: Some(AgeGroup::Adult),
            age_band: Some(AgeBand::From12To17),
            ..children()
        })
        .unwrap_err();
        assert_eq!(fields(&error), ["age_band"]);
    }

    #[test]
    fn a_perpetrator_needs_something_to_identify_it() {
        let error = AllegedPerpetrator::parse("", " ".into(), String::new()).unwrap_err();
        assert_eq!(fields(&error), [""]);
        let error = AllegedPerpetrator::parse("am", String::new(), String::new()).unwrap_err();
        assert_eq!(fields(&error), ["party_code"]);
    }

    #[test]
    fn codes_round_trip() {
        for harm in Harm::ALL {
            assert_eq!(Harm::from_code(harm.code()), Ok(*harm));
        }
        assert!(ViolationType::from_code("genocide").is_err());
    }
}
