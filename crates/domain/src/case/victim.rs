//! A victim known individually: what the casualty register records about them beside their
//! sealed name. Reports of one person by several sources are linked by the register's matching
//! (see [`crate::casualty`]); these details are what matching blocks on and what the figures
//! count.

use chrono::{Datelike, NaiveDate};

use crate::Violations;
use crate::casualty::age_band_of;
use crate::incident::{AgeBand, AgeGroup, Harm, Sex, VictimStatus};
use crate::text::bounded_text;

bounded_text!(
    /// Where the harm happened, as reported.
    HarmPlace,
    200
);

/// The raw details of a named victim; a `None` category was left unspecified.
#[derive(Debug, Clone, Default)]
pub struct CasualtyInput {
    pub status: Option<VictimStatus>,
    pub harm: Option<Harm>,
    pub sex: Option<Sex>,
    pub age_years: Option<i32>,
    pub birth_year: Option<i32>,
    /// `YYYY-MM-DD`, or empty.
    pub harm_date: String,
    pub harm_place: String,
    /// The allegations that report the person, as given.
    pub allegation_ids: Vec<String>,
}

/// What the register records about a named victim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasualtyDetails {
    pub status: VictimStatus,
    pub harm: Harm,
    pub sex: Sex,
    pub age_years: Option<u32>,
    pub birth_year: Option<i32>,
    pub harm_date: Option<NaiveDate>,
    pub harm_place: Option<HarmPlace>,
    /// The allegations (sources) that report the person, without repetition.
    pub allegation_ids: Vec<uuid::Uuid>,
}

/// The oldest age accepted.
const MAX_AGE: i32 = 130;

impl CasualtyDetails {
    /// Field paths: `status`, `harm`, `sex`, `age_years`, `birth_year`, `harm_date`,
    /// `harm_place`, `allegation_ids[i]`. `today` bounds the dates.
    pub fn parse(input: CasualtyInput, today: NaiveDate) -> Result<Self, Violations> {
        let mut v = Violations::default();
        for (field, missing) in [
            ("status", input.status.is_none()),
            ("harm", input.harm.is_none()),
            ("sex", input.sex.is_none()),
        ] {
            if missing {
                v.add(
                    field,
                    "is required; use the UNKNOWN value when it is not known",
                );
            }
        }
        let age_years = match input.age_years {
            None => None,
            Some(age) if (0..=MAX_AGE).contains(&age) => u32::try_from(age).ok(),
            Some(age) => {
                v.add(
                    "age_years",
                    format!("must be from 0 to {MAX_AGE}, got {age}"),
                );
                None
            }
        };
        let birth_year = match input.birth_year {
            None => None,
            Some(year) if (today.year() - MAX_AGE..=today.year()).contains(&year) => Some(year),
            Some(year) => {
                v.add(
                    "birth_year",
                    format!(
                        "must be from {} to {}, got {year}",
                        today.year() - MAX_AGE,
                        today.year()
                    ),
                );
                None
            }
        };
        let harm_date = match input.harm_date.trim() {
            "" => None,
            text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) if date <= today => Some(date),
                Ok(_) => {
                    v.add("harm_date", "is in the future");
                    None
                }
                Err(_) => {
                    v.add("harm_date", "must be a date written YYYY-MM-DD");
                    None
                }
            },
        };
        if let (Some(born), Some(date)) = (birth_year, harm_date)
            && born > date.year()
        {
            v.add("birth_year", "is after the date of harm");
        }
        let harm_place = match input.harm_place.trim() {
            "" => None,
            _ => v.check("harm_place", HarmPlace::parse(input.harm_place)),
        };
        let mut allegation_ids = Vec::new();
        for (index, id) in input.allegation_ids.iter().enumerate() {
            let field = format!("allegation_ids[{index}]");
            match uuid::Uuid::parse_str(id) {
                Ok(id) if allegation_ids.contains(&id) => v.add(field, "repeats an allegation"),
                Ok(id) => allegation_ids.push(id),
                Err(_) => v.add(field, "must be a UUID"),
            }
        }
        match (input.status, input.harm, input.sex) {
            (Some(status), Some(harm), Some(sex)) if v.is_empty() => Ok(Self {
                status,
                harm,
                sex,
                age_years,
                birth_year,
                harm_date,
                harm_place,
                allegation_ids,
            }),
            _ => Err(v),
        }
    }

    /// Their age when harmed: the age given, or the year of harm less the year of birth (the
    /// current year's when the date is not known).
    pub fn age_when_harmed(&self, this_year: i32) -> Option<u32> {
        self.age_years.or_else(|| {
            let year = self.harm_date.map_or(this_year, |d| d.year());
            self.birth_year
                .and_then(|born| u32::try_from(year - born).ok())
        })
    }

    /// Their age group and, for a child, band; `Unknown` when no age is known.
    pub fn age_group(&self, this_year: i32) -> (AgeGroup, Option<AgeBand>) {
        self.age_when_harmed(this_year)
            .map_or((AgeGroup::Unknown, None), age_band_of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    #[test]
    fn a_named_victim_needs_status_harm_and_sex_and_sane_dates() {
        let error = CasualtyDetails::parse(
            CasualtyInput {
                age_years: Some(200),
                harm_date: "2030-01-01".into(),
                allegation_ids: vec!["x".into()],
                ..CasualtyInput::default()
            },
            today(),
        )
        .unwrap_err();
        let fields: Vec<&str> = error.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "status",
                "harm",
                "sex",
                "age_years",
                "harm_date",
                "allegation_ids[0]"
            ]
        );
    }

    #[test]
    fn the_age_comes_from_the_year_of_birth_when_not_given() {
        let details = CasualtyDetails::parse(
            CasualtyInput {
                status: Some(VictimStatus::Civilian),
                harm: Some(Harm::Killed),
                sex: Some(Sex::Female),
                birth_year: Some(2013),
                harm_date: "2020-10-04".into(),
                ..CasualtyInput::default()
            },
            today(),
        )
        .unwrap();
        assert_eq!(details.age_when_harmed(2026), Some(7));
        assert_eq!(
            details.age_group(2026),
            (AgeGroup::Child, Some(AgeBand::From5To11))
        );
    }
}
