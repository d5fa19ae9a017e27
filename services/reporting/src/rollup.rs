//! Rollups: every unfiltered count of up to two dimensions, kept current by the projector.
//!
//! A statistic grouped by one or two dimensions over a million cases is a join and a GROUP BY
//! over millions of rows; read from a rollup it is a handful of rows found by primary key. The
//! projector keeps the rollups in the transaction that changes the fact tables: when an item
//! changes it takes away the item's old contribution to every cell and adds its new one, so a
//! rollup always equals the GROUP BY it stands for (a test holds them equal).
//!
//! Each item contributes through its *units*: the allegation or case itself, each victim group
//! (weighted by its count), each charge. A unit lists its value(s) for every dimension that
//! applies to the measure; it adds its weight to the total, to one cell per value of each
//! dimension, and to one cell per pair of values of each pair of dimensions — so a case alleged
//! against two parties counts once in the total and once in each party's row, exactly as the
//! SQL does. `MEASURE_ACCUSED` counts distinct people across cases, which does not add up case
//! by case, so it has no rollup and is always counted from the fact tables.

use std::collections::BTreeMap;

use docket_proto::docket::reporting::v1::{Dimension, Measure};
use sea_orm::{ConnectionTrait, DbErr};

use crate::counting;
use crate::facts::{AllegationItem, CaseItem, Rows};
use crate::sql::query;
use crate::suppress::Cell;

/// A rollup cell: the measure, its dimensions in ascending order joined by `,` (empty for the
/// total), and their keys in the same order (empty where there is no dimension).
type CellKey = (&'static str, String, String, String);

/// Changes to rollup cells.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delta(BTreeMap<CellKey, i64>);

/// One counted thing and its values per dimension.
struct Unit<'a> {
    weight: i64,
    /// In ascending order of dimension.
    values: Vec<(Dimension, &'a [String])>,
}

impl<'a> Unit<'a> {
    fn new(weight: i64, mut values: Vec<(Dimension, &'a [String])>) -> Self {
        values.sort_by_key(|(dimension, _)| *dimension as i32);
        Self { weight, values }
    }
}

fn one(value: &String) -> &[String] {
    std::slice::from_ref(value)
}

/// An item's derived values, held while its units borrow them.
struct Derived {
    verification: String,
    counted: bool,
}

fn allegation_units<'a>(
    item: &'a AllegationItem,
    derived: &'a Derived,
) -> Vec<(Measure, Vec<Unit<'a>>)> {
    let unit = Unit::new(
        1,
        vec![
            (Dimension::Party, &item.parties),
            (Dimension::ViolationType, &item.violations),
            (Dimension::AllegationStatus, one(&item.status)),
            (Dimension::IncidentWeek, one(&item.week)),
            (Dimension::Place, one(&item.place)),
            (Dimension::Verification, one(&derived.verification)),
        ],
    );
    vec![(Measure::Allegations, vec![unit])]
}

/// The units of a case. Rollups hold only what the counting rule counts (`crate::counting`):
/// a case that does not count, and a charge that is not a charge filed, weigh nothing.
fn case_units<'a>(item: &'a CaseItem, derived: &'a Derived) -> Vec<(Measure, Vec<Unit<'a>>)> {
    let counted = i64::from(derived.counted);
    let case = vec![
        (Dimension::Party, item.parties.as_slice()),
        (Dimension::CaseStatus, one(&item.status)),
        (Dimension::IncidentWeek, one(&item.week)),
        (Dimension::Place, one(&item.place)),
        (Dimension::Verification, one(&derived.verification)),
    ];
    let with = |more: Vec<(Dimension, &'a [String])>| {
        let mut values = case.clone();
        values.extend(more);
        values
    };
    let cases = Unit::new(counted, with(vec![(Dimension::CrimeType, &item.crimes)]));
    let victims = item
        .victims
        .iter()
        .map(|group| {
            Unit::new(
                counted * group.count,
                with(vec![
                    (Dimension::CrimeType, &item.crimes),
                    (Dimension::VictimStatus, one(&group.status)),
                    (Dimension::Harm, one(&group.harm)),
                    (Dimension::AgeGroup, one(&group.age_group)),
                    (Dimension::Sex, one(&group.sex)),
                    (Dimension::VictimParty, one(&group.party)),
                    (Dimension::AgeBand, one(&group.age_band)),
                ]),
            )
        })
        .collect();
    let charges = item
        .charges
        .iter()
        .map(|charge| {
            Unit::new(
                counted * i64::from(counting::charge_counts(&charge.status)),
                with(vec![
                    (Dimension::CrimeType, one(&charge.crime)),
                    (Dimension::InAbsentia, one(&charge.in_absentia)),
                    (Dimension::ChargeStatus, one(&charge.status)),
                ]),
            )
        })
        .collect();
    vec![
        (Measure::Cases, vec![cases]),
        (Measure::Victims, victims),
        (Measure::Charges, charges),
    ]
}

impl Delta {
    /// Adds `sign` times the contribution of `units` to `measure`'s cells.
    fn add(&mut self, measure: Measure, units: &[Unit<'_>], sign: i64) {
        let name = measure.as_str_name();
        for unit in units {
            let weight = sign * unit.weight;
            if weight == 0 {
                continue;
            }
            let mut cell = |dims: String, k1: &str, k2: &str| {
                *self
                    .0
                    .entry((name, dims, k1.to_owned(), k2.to_owned()))
                    .or_default() += weight;
            };
            cell(String::new(), "", "");
            for (i, (first, first_values)) in unit.values.iter().enumerate() {
                for a in *first_values {
                    cell(first.as_str_name().to_owned(), a, "");
                }
                for (second, second_values) in &unit.values[i + 1..] {
                    let dims = format!("{},{}", first.as_str_name(), second.as_str_name());
                    for a in *first_values {
                        for b in *second_values {
                            cell(dims.clone(), a, b);
                        }
                    }
                }
            }
        }
    }

    /// The allegation `before` (if it was stored) becomes `after` (if it still is).
    pub fn allegation(&mut self, before: Option<&AllegationItem>, after: Option<&AllegationItem>) {
        for (item, sign) in [(before, -1), (after, 1)] {
            let Some(item) = item else { continue };
            let derived = Derived {
                verification: item.verification(),
                counted: true,
            };
            for (measure, units) in allegation_units(item, &derived) {
                self.add(measure, &units, sign);
            }
        }
    }

    /// The case `before` (if it was stored) becomes `after` (if it still is).
    pub fn case(&mut self, before: Option<&CaseItem>, after: Option<&CaseItem>) {
        for (item, sign) in [(before, -1), (after, 1)] {
            let Some(item) = item else { continue };
            let derived = Derived {
                verification: item.verification(),
                counted: item.counting() == counting::COUNTED,
            };
            for (measure, units) in case_units(item, &derived) {
                self.add(measure, &units, sign);
            }
        }
    }

    /// Writes the changes, cells in key order (so two writers cannot deadlock on them).
    pub async fn apply<C: ConnectionTrait>(self, conn: &C) -> Result<(), DbErr> {
        let mut rows = Rows::with_suffix(
            "stat_rollups (measure, dims, key1, key2, value)",
            5,
            " ON CONFLICT (measure, dims, key1, key2) \
             DO UPDATE SET value = stat_rollups.value + excluded.value",
        );
        for ((measure, dims, k1, k2), change) in self.0 {
            if change != 0 {
                rows.push(
                    conn,
                    vec![
                        measure.into(),
                        dims.into(),
                        k1.into(),
                        k2.into(),
                        change.into(),
                    ],
                )
                .await?;
            }
        }
        rows.flush(conn).await
    }
}

/// Whether the rollups answer a query of `measure` grouped by `group_by` with `filters` filters,
/// counting only what the counting rule counts (as the rollups do) unless `include_uncounted`.
pub fn covers(
    measure: Measure,
    group_by: &[Dimension],
    filters: usize,
    include_uncounted: bool,
) -> bool {
    filters == 0
        && !include_uncounted
        && !group_by.contains(&Dimension::Counting)
        && !group_by.contains(&Dimension::Material)
        && group_by.len() <= 2
        && matches!(
            measure,
            Measure::Allegations | Measure::Cases | Measure::Victims | Measure::Charges
        )
}

/// The total and the cells of `measure` grouped by `group_by` (at most two dimensions), cells
/// ordered by their keys.
pub async fn read<C: ConnectionTrait>(
    conn: &C,
    measure: Measure,
    group_by: &[Dimension],
) -> Result<(i64, Vec<Cell>), DbErr> {
    let mut sorted = group_by.to_vec();
    sorted.sort_by_key(|dimension| *dimension as i32);
    let swapped = sorted != group_by;
    let dims = sorted
        .iter()
        .map(|d| d.as_str_name())
        .collect::<Vec<_>>()
        .join(",");
    let rows = query(
        conn,
        "SELECT dims, key1, key2, value FROM stat_rollups \
         WHERE measure = ? AND dims IN ('', ?) AND value <> 0",
        vec![measure.as_str_name().into(), dims.into()],
    )
    .await?;
    let mut total = 0;
    let mut cells = Vec::new();
    for row in rows {
        let row_dims: String = row.try_get_by_index(0)?;
        let value: i64 = row.try_get_by_index(3)?;
        // The total's row; with no grouping it is the only row.
        if row_dims.is_empty() {
            total = value;
            continue;
        }
        let k1: String = row.try_get_by_index(1)?;
        let k2: String = row.try_get_by_index(2)?;
        let keys = match (group_by.len(), swapped) {
            (1, _) => vec![k1],
            (_, false) => vec![k1, k2],
            (_, true) => vec![k2, k1],
        };
        cells.push(Cell {
            keys,
            value,
            suppressed: false,
        });
    }
    cells.sort_by(|a, b| a.keys.cmp(&b.keys));
    Ok((total, cells))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{ChargeRow, VictimRow};

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    fn case() -> CaseItem {
        CaseItem {
            id: "c1".into(),
            reference: Some("CASE-2020-000001".into()),
            opened_time: None,
            status: "CASE_STATUS_OPEN".into(),
            week: "2020-W41".into(),
            place: "Ganja".into(),
            coordinates: None,
            parties: strings(&["AM", "AZ"]),
            crimes: strings(&["icc.8.2.b.i"]),
            victims: vec![
                VictimRow {
                    count: 3,
                    status: "VICTIM_STATUS_CIVILIAN".into(),
                    harm: "HARM_KILLED".into(),
                    age_group: "AGE_GROUP_CHILD".into(),
                    sex: "SEX_FEMALE".into(),
                    party: "AZ".into(),
                    age_band: "AGE_BAND_UNDER_5".into(),
                },
                VictimRow {
                    count: 2,
                    status: "VICTIM_STATUS_CIVILIAN".into(),
                    harm: "HARM_INJURED".into(),
                    age_group: "AGE_GROUP_ADULT".into(),
                    sex: "SEX_MALE".into(),
                    party: "unknown".into(),
                    age_band: "AGE_GROUP_ADULT".into(),
                },
            ],
            reported: Vec::new(),
            named: Vec::new(),
            charges: vec![ChargeRow {
                charge_id: "g1".into(),
                person_id: "p1".into(),
                crime: "icc.8.2.b.i".into(),
                in_absentia: "true".into(),
                status: "CHARGE_STATUS_FILED".into(),
            }],
            close_reason: None,
            only_fabricated_evidence: false,
        }
    }

    fn cell(delta: &Delta, measure: Measure, dims: &str, k1: &str, k2: &str) -> i64 {
        delta
            .0
            .get(&(
                measure.as_str_name(),
                dims.to_owned(),
                k1.to_owned(),
                k2.to_owned(),
            ))
            .copied()
            .unwrap_or_default()
    }

    #[test]
    fn a_case_counts_once_in_the_total_and_once_per_party() {
        let mut delta = Delta::default();
        delta.case(None, Some(&case()));
        assert_eq!(cell(&delta, Measure::Cases, "", "", ""), 1);
        assert_eq!(cell(&delta, Measure::Cases, "DIMENSION_PARTY", "AM", ""), 1);
        assert_eq!(cell(&delta, Measure::Cases, "DIMENSION_PARTY", "AZ", ""), 1);
        assert_eq!(cell(&delta, Measure::Victims, "", "", ""), 5);
        assert_eq!(
            cell(
                &delta,
                Measure::Victims,
                "DIMENSION_AGE_GROUP,DIMENSION_SEX",
                "AGE_GROUP_CHILD",
                "SEX_FEMALE"
            ),
            3
        );
        assert_eq!(
            cell(
                &delta,
                Measure::Victims,
                "DIMENSION_PARTY,DIMENSION_HARM",
                "AZ",
                "HARM_KILLED"
            ),
            3
        );
        assert_eq!(
            cell(
                &delta,
                Measure::Charges,
                "DIMENSION_IN_ABSENTIA",
                "true",
                ""
            ),
            1
        );
    }

    #[test]
    fn victims_count_by_their_side_and_a_case_that_does_not_count_weighs_nothing() {
        let mut delta = Delta::default();
        delta.case(None, Some(&case()));
        assert_eq!(
            cell(&delta, Measure::Victims, "DIMENSION_VICTIM_PARTY", "AZ", ""),
            3
        );
        assert_eq!(
            cell(
                &delta,
                Measure::Victims,
                "DIMENSION_AGE_BAND",
                "AGE_BAND_UNDER_5",
                ""
            ),
            3
        );
        let mut closed = case();
        closed.status = "CASE_STATUS_CLOSED".into();
        closed.close_reason = Some("CLOSE_REASON_NOT_A_CRIME".into());
        delta.case(Some(&case()), Some(&closed));
        delta.0.retain(|_, v| *v != 0);
        assert_eq!(delta, Delta::default());
    }

    #[test]
    fn a_change_takes_away_exactly_what_was_given() {
        let before = case();
        let mut after = case();
        after.parties = strings(&["AZ"]);
        after.victims[0].count = 4;
        let mut delta = Delta::default();
        delta.case(None, Some(&before));
        delta.case(Some(&before), Some(&after));
        let mut direct = Delta::default();
        direct.case(None, Some(&after));
        delta.0.retain(|_, v| *v != 0);
        assert_eq!(delta, direct);
        delta.case(Some(&after), None);
        assert!(delta.0.values().all(|v| *v == 0));
    }
}
