//! Computing the tables of a release from the cases as projected, in memory, so that the same
//! cases give the same tables byte for byte on either database.
//!
//! Every counted thing — a case, a victim group (weighted by its count), a charge, a charged
//! person — is a *unit* with a set of values per dimension (a case alleged against two parties
//! has two). Units with the same values in every dimension the catalogue uses for their measure
//! are one *atom*, and each cell is a sum of atoms: a unit counts in a cell when each of the
//! cell's keys is among its values. The atoms are what the audit reasons about: the unknowns
//! that the published cells constrain.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};

use super::catalogue::{Dim, Measure, TableSpec};
use super::gazetteer::Gazetteer;
use crate::counting;
use crate::facts::{CaseItem, UNKNOWN};

/// One table, computed: its cells ordered by their keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub spec: TableSpec,
    pub cells: Vec<Cell>,
}

/// One cell: its keys, its true count and the atoms (of the table's measure) it sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub keys: Vec<String>,
    pub value: i64,
    pub atoms: Vec<usize>,
}

/// The tables of a release and the atoms of each measure (their weights).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Computed {
    pub tables: Vec<Table>,
    pub atoms: BTreeMap<Measure, Vec<i64>>,
}

/// The month (`2020-10`) of the ISO week `week` (`2020-W41`): the month of its Thursday, as
/// ISO 8601 assigns a week to a year.
pub fn month_of_week(week: &str) -> String {
    let parsed = week.split_once("-W").and_then(|(year, number)| {
        let date =
            NaiveDate::from_isoywd_opt(year.parse().ok()?, number.parse().ok()?, Weekday::Thu)?;
        Some(format!("{:04}-{:02}", date.year(), date.month()))
    });
    parsed.unwrap_or_else(|| UNKNOWN.to_owned())
}

type Values = BTreeMap<Dim, BTreeSet<String>>;

fn set<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> BTreeSet<String> {
    values.into_iter().map(Into::into).collect()
}

/// The units one case contributes to each measure; its charges also go to their persons in
/// `persons` (a person is one unit across every case, counted at the end).
fn case_units(
    case: &CaseItem,
    gazetteer: &Gazetteer,
    persons: &mut BTreeMap<String, Values>,
) -> Vec<(Measure, i64, Values)> {
    let mut units = Vec::new();
    let mut common = Values::new();
    common.insert(Dim::Party, set(case.parties.iter().cloned()));
    common.insert(Dim::Month, set([month_of_week(&case.week)]));
    common.insert(Dim::Week, set([case.week.clone()]));
    common.insert(
        Dim::Region,
        set([gazetteer.region(&case.place, case.coordinates)]),
    );
    let mut whole = common.clone();
    whole.insert(Dim::CrimeType, set(case.crimes.iter().cloned()));
    for group in case.victims.iter().filter(|g| g.count > 0) {
        let mut values = whole.clone();
        values.insert(Dim::Harm, set([group.harm.clone()]));
        values.insert(Dim::VictimStatus, set([group.status.clone()]));
        values.insert(Dim::AgeGroup, set([group.age_group.clone()]));
        values.insert(Dim::Sex, set([group.sex.clone()]));
        values.insert(Dim::VictimParty, set([group.party.clone()]));
        values.insert(Dim::AgeBand, set([group.age_band.clone()]));
        units.push((Measure::Victims, group.count, values));
    }
    units.push((Measure::Cases, 1, whole));
    for charge in case
        .charges
        .iter()
        .filter(|c| counting::charge_counts(&c.status))
    {
        let mut values = common.clone();
        values.insert(Dim::CrimeType, set([charge.crime.clone()]));
        values.insert(Dim::InAbsentia, set([charge.in_absentia.clone()]));
        let person = persons.entry(charge.person_id.clone()).or_default();
        for (dim, more) in &values {
            person.entry(*dim).or_default().extend(more.iter().cloned());
        }
        units.push((Measure::Charges, 1, values));
    }
    units
}

/// Every combination of one value from each of `sets`.
fn combinations(sets: &[&BTreeSet<String>]) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new()];
    for values in sets {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut keys = prefix.clone();
                    keys.push(v.clone());
                    keys
                })
            })
            .collect();
    }
    out
}

/// An atom's values: one set per dimension the measure's tables use, in order.
type Signature = Vec<BTreeSet<String>>;

/// The atoms of every measure, gathered case by case: memory holds atoms, not cases, so a
/// release over a million cases needs no more than one over a thousand.
#[derive(Debug)]
pub struct Accumulator<'a> {
    catalogue: &'a [TableSpec],
    gazetteer: &'a Gazetteer,
    /// The dimensions each measure's tables use, in order.
    used: BTreeMap<Measure, Vec<Dim>>,
    atoms: BTreeMap<Measure, BTreeMap<Signature, i64>>,
    persons: BTreeMap<String, Values>,
}

impl<'a> Accumulator<'a> {
    pub fn new(catalogue: &'a [TableSpec], gazetteer: &'a Gazetteer) -> Self {
        let mut used: BTreeMap<Measure, BTreeSet<Dim>> = BTreeMap::new();
        for spec in catalogue {
            used.entry(spec.measure)
                .or_default()
                .extend(spec.by.iter().copied());
        }
        Self {
            catalogue,
            gazetteer,
            used: used
                .into_iter()
                .map(|(m, d)| (m, d.into_iter().collect()))
                .collect(),
            atoms: BTreeMap::new(),
            persons: BTreeMap::new(),
        }
    }

    fn add_unit(&mut self, measure: Measure, weight: i64, values: &Values) {
        let Some(used) = self.used.get(&measure) else {
            return;
        };
        let signature = used
            .iter()
            .map(|d| values.get(d).cloned().unwrap_or_default())
            .collect();
        *self
            .atoms
            .entry(measure)
            .or_default()
            .entry(signature)
            .or_default() += weight;
    }

    /// Counts one case, if it counts by the office's rule ([`counting`]): a case closed as not
    /// a crime, merged, or resting only on fabricated evidence adds nothing to a release.
    pub fn add(&mut self, case: &CaseItem) {
        if counting::case_counting(case) != counting::COUNTED {
            return;
        }
        let mut persons = std::mem::take(&mut self.persons);
        for (measure, weight, values) in case_units(case, self.gazetteer, &mut persons) {
            self.add_unit(measure, weight, &values);
        }
        self.persons = persons;
    }

    /// The tables, in the catalogue's order.
    pub fn finish(mut self) -> Computed {
        for values in std::mem::take(&mut self.persons).into_values() {
            self.add_unit(Measure::Accused, 1, &values);
        }
        let empty = BTreeMap::new();
        let mut atoms_by_measure = BTreeMap::new();
        let mut tables = Vec::new();
        for spec in self.catalogue {
            let used = &self.used[&spec.measure];
            let atoms = self.atoms.get(&spec.measure).unwrap_or(&empty);
            atoms_by_measure
                .entry(spec.measure)
                .or_insert_with(|| atoms.values().copied().collect::<Vec<i64>>());
            let positions: Vec<usize> = spec
                .by
                .iter()
                .filter_map(|d| used.iter().position(|u| u == d))
                .collect();
            let mut cells: BTreeMap<Vec<String>, Cell> = BTreeMap::new();
            if spec.by.is_empty() {
                cells.insert(
                    Vec::new(),
                    Cell {
                        keys: Vec::new(),
                        value: 0,
                        atoms: Vec::new(),
                    },
                );
            }
            for (index, (signature, weight)) in atoms.iter().enumerate() {
                let sets: Vec<&BTreeSet<String>> =
                    positions.iter().map(|p| &signature[*p]).collect();
                for keys in combinations(&sets) {
                    let cell = cells.entry(keys.clone()).or_insert_with(|| Cell {
                        keys,
                        value: 0,
                        atoms: Vec::new(),
                    });
                    cell.value += weight;
                    cell.atoms.push(index);
                }
            }
            tables.push(Table {
                spec: spec.clone(),
                cells: cells.into_values().collect(),
            });
        }
        Computed {
            tables,
            atoms: atoms_by_measure,
        }
    }
}

/// The tables of `catalogue` over `cases`, places turned into regions by `gazetteer`.
pub fn compute(catalogue: &[TableSpec], cases: &[CaseItem], gazetteer: &Gazetteer) -> Computed {
    let mut accumulator = Accumulator::new(catalogue, gazetteer);
    for case in cases {
        accumulator.add(case);
    }
    accumulator.finish()
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::facts::{ChargeRow, VictimRow};

    pub fn case(id: &str, parties: &[&str], place: &str, victims: &[(&str, i64)]) -> CaseItem {
        CaseItem {
            id: id.into(),
            status: "CASE_STATUS_OPEN".into(),
            week: "2020-W41".into(),
            place: place.into(),
            parties: parties.iter().map(|p| (*p).to_owned()).collect(),
            crimes: vec!["icc.8.2.b.i".into()],
            victims: victims
                .iter()
                .map(|(harm, count)| VictimRow {
                    count: *count,
                    status: "VICTIM_STATUS_CIVILIAN".into(),
                    harm: (*harm).into(),
                    age_group: "AGE_GROUP_ADULT".into(),
                    sex: "SEX_FEMALE".into(),
                    party: "AZ".into(),
                    age_band: "AGE_GROUP_ADULT".into(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_week_of_a_thursday_gives_the_month() {
        assert_eq!(month_of_week("2020-W41"), "2020-10");
        // 2020-W53 runs from 28 December 2020 to 3 January 2021; its Thursday is 31 December.
        assert_eq!(month_of_week("2020-W53"), "2020-12");
        assert_eq!(month_of_week("unknown"), "unknown");
    }

    #[test]
    fn a_case_against_two_parties_counts_in_both_and_once_in_the_total() {
        let catalogue = super::super::catalogue::parse(
            &docket_platform::settings::ReleaseSettings::default().tables,
        )
        .unwrap();
        let mut two = case(
            "c1",
            &["AM", "AZ"],
            "Ganja, Shahriyar street",
            &[("HARM_KILLED", 3)],
        );
        two.charges.push(ChargeRow {
            charge_id: "g1".into(),
            person_id: "p1".into(),
            crime: "icc.8.2.b.i".into(),
            in_absentia: "true".into(),
            status: "CHARGE_STATUS_FILED".into(),
        });
        let mut other = case("c2", &["AZ"], "Nowhere", &[("HARM_INJURED", 2)]);
        other.charges.push(ChargeRow {
            charge_id: "g2".into(),
            person_id: "p1".into(),
            crime: "icc.8.2.a.i".into(),
            in_absentia: "false".into(),
            status: "CHARGE_STATUS_FILED".into(),
        });
        let computed = compute(&catalogue, &[two, other], &Gazetteer::load(None).unwrap());
        let table = |name: &str| {
            computed
                .tables
                .iter()
                .find(|t| t.spec.name == name)
                .unwrap()
                .cells
                .iter()
                .map(|c| (c.keys.join("/"), c.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(table("victims"), [(String::new(), 5)]);
        assert_eq!(
            table("victims_by_party"),
            [("AM".into(), 3), ("AZ".into(), 5)]
        );
        assert_eq!(
            table("victims_by_region"),
            [("Ganja".into(), 3), ("unknown".into(), 2)]
        );
        assert_eq!(table("accused"), [(String::new(), 1)]);
        assert_eq!(
            table("accused_by_in_absentia"),
            [("false".into(), 1), ("true".into(), 1)]
        );
        let _ = VictimRow::default();
    }

    /// A release counts what the office's figures count: the counting rule, not every row.
    #[test]
    fn cases_and_charges_the_counting_rule_leaves_out_add_nothing() {
        let catalogue = super::super::catalogue::parse(
            &docket_platform::settings::ReleaseSettings::default().tables,
        )
        .unwrap();
        let charge = |id: &str, status: &str| ChargeRow {
            charge_id: id.into(),
            person_id: id.into(),
            crime: "icc.8.2.b.i".into(),
            in_absentia: "true".into(),
            status: status.into(),
        };
        let mut counted = case("c1", &["AM"], "Nowhere", &[("HARM_KILLED", 3)]);
        counted.charges.push(charge("g1", "CHARGE_STATUS_FILED"));
        counted
            .charges
            .push(charge("g2", "CHARGE_STATUS_WITHDRAWN"));
        let mut not_a_crime = case("c2", &["AM"], "Nowhere", &[("HARM_KILLED", 7)]);
        not_a_crime.status = "CASE_STATUS_CLOSED".into();
        not_a_crime.close_reason = Some("CLOSE_REASON_NOT_A_CRIME".into());
        let mut fabricated = case("c3", &["AZ"], "Nowhere", &[("HARM_INJURED", 4)]);
        fabricated.only_fabricated_evidence = true;
        let computed = compute(
            &catalogue,
            &[counted, not_a_crime, fabricated],
            &Gazetteer::load(None).unwrap(),
        );
        let total = |name: &str| {
            computed
                .tables
                .iter()
                .find(|t| t.spec.name == name)
                .unwrap()
                .cells
                .iter()
                .map(|c| c.value)
                .sum::<i64>()
        };
        assert_eq!(total("cases"), 1);
        assert_eq!(total("victims"), 3);
        assert_eq!(total("charges"), 1);
        assert_eq!(total("accused"), 1);
        assert_eq!(total("victims_by_side_and_harm"), 3);
    }
}
