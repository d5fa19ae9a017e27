//! The blocking index of named victims, in memory only: each report's name is opened once, at
//! start or when it is added, and kept as its plain Latin form beside the values it is blocked
//! on. Nothing computed from a name is ever written: a restart rebuilds the index from the
//! sealed rows (DESIGN, "Trust": nothing stored may be computed from a sealed value without a
//! secret key; a keyed blocking hash would have met that rule too, but it can only block on
//! exact keys, while names spelled in three scripts must be compared by similarity).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use docket_domain::casualty::{CANDIDATE_SIMILARITY, form_similarity, latin_form};
use docket_domain::incident::Sex;
use uuid::Uuid;

/// How far apart two reported years of birth may be and still be one person's.
const BIRTH_YEAR_SLACK: i32 = 2;

/// One report of a named victim: a person as named in one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub person: Uuid,
    pub case: Uuid,
    /// The name in its plain Latin form.
    pub name: String,
    pub sex: Sex,
    /// Their year of birth, given or estimated from their age and the year of harm.
    pub born: Option<i32>,
    pub day: Option<NaiveDate>,
    /// The place of harm in its plain Latin form.
    pub place: Option<String>,
}

impl Report {
    /// A report from the opened `name` and the details kept in clear.
    pub fn new(
        person: Uuid,
        case: Uuid,
        name: &str,
        sex: Sex,
        born: Option<i32>,
        day: Option<NaiveDate>,
        place: Option<&str>,
    ) -> Self {
        Self {
            person,
            case,
            name: latin_form(name),
            sex,
            born,
            day,
            place: place.map(latin_form).filter(|p| !p.is_empty()),
        }
    }

    /// Whether `other` falls in the same block: dates within a day, the same sex and place, and
    /// years of birth at most two apart; a value not known agrees with any.
    fn blocks_with(&self, other: &Report) -> bool {
        let dates = match (self.day, other.day) {
            (Some(a), Some(b)) => (a - b).num_days().abs() <= 1,
            _ => true,
        };
        dates
            && (self.sex == other.sex || self.sex == Sex::Unknown || other.sex == Sex::Unknown)
            && match (self.born, other.born) {
                (Some(a), Some(b)) => (a - b).abs() <= BIRTH_YEAR_SLACK,
                _ => true,
            }
            && match (&self.place, &other.place) {
                (Some(a), Some(b)) => form_similarity(a, b) >= CANDIDATE_SIMILARITY,
                _ => true,
            }
    }
}

/// The reports, bucketed by the day of harm (and one bucket for reports without one).
#[derive(Debug, Default)]
pub struct Index {
    reports: HashMap<(Uuid, Uuid), Report>,
    by_day: HashMap<i32, Vec<(Uuid, Uuid)>>,
    undated: Vec<(Uuid, Uuid)>,
    /// The cases each person is reported in.
    cases_of: HashMap<Uuid, Vec<Uuid>>,
}

fn day_number(day: NaiveDate) -> i32 {
    day.num_days_from_ce()
}

impl Index {
    /// Adds or replaces the report of `report.person` in `report.case`.
    pub fn put(&mut self, report: Report) {
        let key = (report.person, report.case);
        self.remove(key.0, key.1);
        match report.day {
            Some(day) => self.by_day.entry(day_number(day)).or_default().push(key),
            None => self.undated.push(key),
        }
        self.cases_of.entry(key.0).or_default().push(key.1);
        self.reports.insert(key, report);
    }

    /// Removes the report of `person` in `case`, if any.
    pub fn remove(&mut self, person: Uuid, case: Uuid) {
        let key = (person, case);
        let Some(old) = self.reports.remove(&key) else {
            return;
        };
        let bucket = match old.day {
            Some(day) => self.by_day.get_mut(&day_number(day)),
            None => Some(&mut self.undated),
        };
        if let Some(bucket) = bucket {
            bucket.retain(|k| *k != key);
        }
        if let Some(cases) = self.cases_of.get_mut(&person) {
            cases.retain(|c| *c != case);
            if cases.is_empty() {
                self.cases_of.remove(&person);
            }
        }
    }

    /// The reports of `person`, in any case.
    pub fn reports_of(&self, person: Uuid) -> Vec<&Report> {
        self.cases_of
            .get(&person)
            .into_iter()
            .flatten()
            .filter_map(|case| self.reports.get(&(person, *case)))
            .collect()
    }

    /// Whether `person` is a named victim in some case.
    pub fn knows(&self, person: Uuid) -> bool {
        self.cases_of.contains_key(&person)
    }

    /// The reports of other persons in `report`'s block whose names are similar enough, with
    /// their similarity, most similar first.
    pub fn candidates(&self, report: &Report) -> Vec<(&Report, f64)> {
        let keys: Box<dyn Iterator<Item = &(Uuid, Uuid)>> = match report.day {
            Some(day) => {
                let day = day_number(day);
                Box::new(
                    (day - 1..=day + 1)
                        .filter_map(|d| self.by_day.get(&d))
                        .flatten()
                        .chain(self.undated.iter()),
                )
            }
            None => Box::new(self.reports.keys()),
        };
        let mut found: Vec<(&Report, f64)> = keys
            .filter_map(|key| self.reports.get(key))
            .filter(|other| other.person != report.person && report.blocks_with(other))
            .filter_map(|other| {
                let similarity = form_similarity(&report.name, &other.name);
                (similarity >= CANDIDATE_SIMILARITY).then_some((other, similarity))
            })
            .collect();
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.person.cmp(&b.0.person)));
        found
    }

    pub fn len(&self) -> usize {
        self.reports.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2020, 10, d)
    }

    fn report(name: &str, sex: Sex, born: Option<i32>, d: u32) -> Report {
        Report::new(
            Uuid::now_v7(),
            Uuid::now_v7(),
            name,
            sex,
            born,
            day(d),
            Some("Ganja"),
        )
    }

    #[test]
    fn spellings_of_one_name_in_the_same_block_are_candidates() {
        let mut index = Index::default();
        let cyrillic = report("Мамедов Али", Sex::Male, Some(1980), 11);
        let other_day = report("Əli Məmmədov", Sex::Male, Some(1980), 20);
        let woman = report("Əli Məmmədov", Sex::Female, Some(1980), 11);
        let other_name = report("Hüseynov Vüqar", Sex::Male, Some(1980), 11);
        for r in [&cyrillic, &other_day, &woman, &other_name] {
            index.put(r.clone());
        }
        let asked = report("Əli Məmmədov", Sex::Unknown, Some(1981), 10);
        let found: Vec<Uuid> = index
            .candidates(&asked)
            .into_iter()
            .map(|(r, _)| r.person)
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.contains(&cyrillic.person) && found.contains(&woman.person));
        index.remove(cyrillic.person, cyrillic.case);
        assert_eq!(index.candidates(&asked).len(), 1);
        assert_eq!(index.len(), 3);
    }
}
