//! Protecting a release as a whole: which cells are withheld, decided for all its tables
//! together and against every earlier release, and checked by an audit before anything is
//! published.
//!
//! Primary suppression withholds each count from 1 to the threshold, and each count that is
//! within the threshold of what an earlier release said of the same cell (published: the
//! difference would be a small group; withheld: publishing it now would nearly give back what
//! was withheld then). The audit then asks, for every withheld cell, the smallest and the
//! largest value it could have given everything this release publishes: a linear program over
//! the atoms (see [`super::tables`]) with every published cell as an equality. While some range
//! is narrower than `min_range`, more cells are withheld — the smallest published cell beside
//! the exposed one in its table, else the smallest published cell of another table that shares
//! its atoms — and the audit runs again, one pick per table a round, since one pick often covers
//! several exposed cells of its table. When nothing is left to withhold the release is refused.
//! Greedy picks overshoot, so once the release is protected every secondary cell is tried back,
//! the largest first: it is published again when the audit still finds every range wide
//! enough with it, while the audits this takes stay within [`PUBLISH_BACK_WORK`] (withheld
//! cells × atoms per audit, summed): small releases, where over-suppression hides most figures,
//! get every cell tried; a release over a million cases is not audited without end. Every
//! decision depends only on the figures, so a recomputation decides alike.
//!
//! The audit treats the atoms that exist as the only ones, and counts as real numbers: a reader
//! who knows less can only find wider ranges, so a range found wide enough here is at least as
//! wide for the reader.

use std::collections::BTreeMap;

use good_lp::{
    Expression, ResolutionError, Solution, SolverModel, Variable, constraint, microlp, variable,
    variables,
};

use super::catalogue::Measure;
use super::tables::Computed;

/// A cell of an earlier release, as the office knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierCell {
    pub table: String,
    pub keys: Vec<String>,
    pub value: i64,
    pub withheld: bool,
}

/// Why a cell is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withheld {
    Primary,
    Secondary,
}

/// What the audit found of one withheld cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub table: usize,
    pub cell: usize,
    pub lower: f64,
    /// `None` when unbounded.
    pub upper: Option<f64>,
}

/// The decision for a release.
#[derive(Debug, Clone, PartialEq)]
pub struct Protection {
    /// Per table, per cell.
    pub withheld: Vec<Vec<Option<Withheld>>>,
    pub ranges: Vec<Range>,
}

impl Protection {
    pub fn count(&self, kind: Withheld) -> usize {
        self.withheld
            .iter()
            .flatten()
            .filter(|w| **w == Some(kind))
            .count()
    }
}

/// No pattern of withheld cells protects the release.
#[derive(Debug, thiserror::Error)]
#[error("cell {keys:?} of table {table} cannot be protected: nothing left to withhold")]
pub struct Unprotectable {
    pub table: String,
    pub keys: Vec<String>,
}

/// How much auditing trying secondary cells back may take: withheld cells × atoms per audit,
/// summed over the audits (each solves two linear programs over the atoms per withheld cell).
pub const PUBLISH_BACK_WORK: usize = 2_000_000;

/// Decides what `computed` withholds, given every cell of the `earlier` releases.
pub fn protect(
    computed: &Computed,
    earlier: &[EarlierCell],
    threshold: i64,
    min_range: i64,
) -> Result<Protection, Unprotectable> {
    protect_with(computed, earlier, threshold, min_range, PUBLISH_BACK_WORK)
}

/// Whether the audit's `range` is narrower than `min_range`.
fn narrow(range: &Range, min_range: i64) -> bool {
    range
        .upper
        .is_some_and(|upper| upper - range.lower < min_range as f64 - 1e-6)
}

/// [`protect`], trying secondary cells back within `publish_back` work (0: none).
fn protect_with(
    computed: &Computed,
    earlier: &[EarlierCell],
    threshold: i64,
    min_range: i64,
    publish_back: usize,
) -> Result<Protection, Unprotectable> {
    let mut before: BTreeMap<(&str, &[String]), Vec<&EarlierCell>> = BTreeMap::new();
    for cell in earlier {
        before
            .entry((cell.table.as_str(), cell.keys.as_slice()))
            .or_default()
            .push(cell);
    }
    let mut withheld: Vec<Vec<Option<Withheld>>> = computed
        .tables
        .iter()
        .map(|table| {
            table
                .cells
                .iter()
                .map(|cell| {
                    let small = cell.value > 0 && cell.value <= threshold;
                    let near = cell.value > 0
                        && before
                            .get(&(table.spec.name.as_str(), cell.keys.as_slice()))
                            .is_some_and(|cells| {
                                cells.iter().any(|old| {
                                    let change = (cell.value - old.value).abs();
                                    change <= threshold && (old.withheld || change > 0)
                                })
                            });
                    (small || near).then_some(Withheld::Primary)
                })
                .collect()
        })
        .collect();
    loop {
        let ranges = audit(computed, &withheld);
        let exposed: Vec<&Range> = ranges.iter().filter(|r| narrow(r, min_range)).collect();
        if exposed.is_empty() {
            return Ok(published_back(
                computed,
                Protection { withheld, ranges },
                min_range,
                publish_back,
            ));
        }
        let mut picked_in = std::collections::BTreeSet::new();
        let mut picked = false;
        let mut stuck = None;
        for range in exposed {
            // One pick per table a round: it may cover the table's other exposed cells, which
            // the next audit will say.
            if !picked_in.insert(range.table) {
                continue;
            }
            match next_to_withhold(computed, &withheld, range.table, range.cell) {
                Some((table, cell)) => {
                    withheld[table][cell] = Some(Withheld::Secondary);
                    picked = true;
                }
                // An earlier pick of this round may have taken the very cell this one needed
                // (and covered it): only a round with no pick at all is stuck.
                None => {
                    stuck.get_or_insert((range.table, range.cell));
                }
            }
        }
        if let (false, Some((table, cell))) = (picked, stuck) {
            let table = &computed.tables[table];
            return Err(Unprotectable {
                table: table.spec.name.clone(),
                keys: table.cells[cell].keys.clone(),
            });
        }
    }
}

/// `protection` with secondary cells published again, the largest first, wherever the audit
/// still finds every withheld range at least `min_range` wide, while the audits stay within
/// `work` (see [`PUBLISH_BACK_WORK`]).
fn published_back(
    computed: &Computed,
    mut protection: Protection,
    min_range: i64,
    work: usize,
) -> Protection {
    let atoms: usize = computed.atoms.values().map(Vec::len).sum();
    let mut spent = 0usize;
    let mut secondary: Vec<(usize, usize)> = protection
        .withheld
        .iter()
        .enumerate()
        .flat_map(|(t, cells)| {
            cells
                .iter()
                .enumerate()
                .filter(|(_, w)| **w == Some(Withheld::Secondary))
                .map(move |(c, _)| (t, c))
        })
        .collect();
    secondary.sort_by_key(|(t, c)| {
        (
            std::cmp::Reverse(computed.tables[*t].cells[*c].value),
            *t,
            *c,
        )
    });
    for (t, c) in secondary {
        let withheld = protection.withheld.iter().flatten().flatten().count();
        spent = spent.saturating_add(withheld.saturating_mul(atoms));
        if spent > work {
            break;
        }
        protection.withheld[t][c] = None;
        let ranges = audit(computed, &protection.withheld);
        if ranges.iter().any(|r| narrow(r, min_range)) {
            protection.withheld[t][c] = Some(Withheld::Secondary);
        } else {
            protection.ranges = ranges;
        }
    }
    protection
}

/// The published non-empty cell to withhold so that the withheld cell (`table`, `cell`) is no
/// longer pinned down.
fn next_to_withhold(
    computed: &Computed,
    withheld: &[Vec<Option<Withheld>>],
    table: usize,
    cell: usize,
) -> Option<(usize, usize)> {
    let exposed = &computed.tables[table].cells[cell];
    let open =
        |t: usize, c: usize| withheld[t][c].is_none() && computed.tables[t].cells[c].value > 0;
    // Beside it in its table: same keys but one (any cell of a one-dimensional table).
    let beside = computed.tables[table]
        .cells
        .iter()
        .enumerate()
        .filter(|(c, other)| {
            *c != cell
                && open(table, *c)
                && other
                    .keys
                    .iter()
                    .zip(&exposed.keys)
                    .filter(|(a, b)| a != b)
                    .count()
                    == 1
        })
        .min_by_key(|(c, other)| (other.value, *c))
        .map(|(c, _)| (table, c));
    if beside.is_some() {
        return beside;
    }
    let measure = computed.tables[table].spec.measure;
    computed
        .tables
        .iter()
        .enumerate()
        .filter(|(_, t)| t.spec.measure == measure)
        .flat_map(|(t, other)| other.cells.iter().enumerate().map(move |(c, x)| (t, c, x)))
        .filter(|(t, c, other)| {
            open(*t, *c) && other.atoms.iter().any(|a| exposed.atoms.contains(a))
        })
        .min_by_key(|(t, c, other)| (other.value, *t, *c))
        .map(|(t, c, _)| (t, c))
}

/// The range of every withheld cell given every published one.
pub fn audit(computed: &Computed, withheld: &[Vec<Option<Withheld>>]) -> Vec<Range> {
    let mut ranges = Vec::new();
    for (measure, atoms) in &computed.atoms {
        let tables: Vec<usize> = (0..computed.tables.len())
            .filter(|t| computed.tables[*t].spec.measure == *measure)
            .collect();
        let published: Vec<(&[usize], i64)> = tables
            .iter()
            .flat_map(|t| {
                computed.tables[*t]
                    .cells
                    .iter()
                    .zip(&withheld[*t])
                    .filter(|(_, w)| w.is_none())
                    .map(|(c, _)| (c.atoms.as_slice(), c.value))
            })
            .collect();
        for t in &tables {
            for (c, cell) in computed.tables[*t].cells.iter().enumerate() {
                if withheld[*t][c].is_none() {
                    continue;
                }
                let (lower, upper) = feasible(*measure, atoms.len(), &published, &cell.atoms);
                ranges.push(Range {
                    table: *t,
                    cell: c,
                    lower,
                    upper,
                });
            }
        }
    }
    ranges
}

fn rounded(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The least and the greatest sum of `objective`'s atoms (`None`: unbounded) over `atoms`
/// non-negative unknowns, given the `published` sums.
fn feasible(
    measure: Measure,
    atoms: usize,
    published: &[(&[usize], i64)],
    objective: &[usize],
) -> (f64, Option<f64>) {
    let solve = |maximise: bool| -> Result<f64, ResolutionError> {
        let mut vars = variables!();
        let x: Vec<Variable> = (0..atoms).map(|_| vars.add(variable().min(0.0))).collect();
        let goal: Expression = objective.iter().map(|a| x[*a]).sum();
        let mut model = if maximise {
            vars.maximise(goal.clone())
        } else {
            vars.minimise(goal.clone())
        }
        .using(microlp);
        for (cell, value) in published {
            let sum: Expression = cell.iter().map(|a| x[*a]).sum();
            model = model.with(constraint!(sum == *value as f64));
        }
        Ok(model.solve()?.eval(&goal))
    };
    let lower = match solve(false) {
        Ok(value) => rounded(value),
        Err(error) => {
            // The true counts satisfy every constraint, so this is the solver's failure: say the
            // cell is known exactly, which withholds more rather than less.
            tracing::error!(measure = measure.name(), %error, "the audit's lower bound failed");
            return (0.0, Some(0.0));
        }
    };
    match solve(true) {
        Ok(value) => (lower, Some(rounded(value))),
        Err(ResolutionError::Unbounded) => (lower, None),
        Err(error) => {
            tracing::error!(measure = measure.name(), %error, "the audit's upper bound failed");
            (lower, Some(lower))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::catalogue::{Dim, TableSpec};
    use crate::release::gazetteer::Gazetteer;
    use crate::release::tables::{compute, tests::case};

    fn spec(name: &str, by: &[Dim]) -> TableSpec {
        TableSpec {
            name: name.into(),
            measure: Measure::Victims,
            by: by.to_vec(),
        }
    }

    fn value_of(computed: &Computed, p: &Protection, table: &str, keys: &[&str]) -> Option<i64> {
        let t = computed.tables.iter().position(|t| t.spec.name == table)?;
        let c = computed.tables[t]
            .cells
            .iter()
            .position(|c| c.keys.iter().map(String::as_str).eq(keys.iter().copied()))?;
        p.withheld[t][c]
            .is_none()
            .then_some(computed.tables[t].cells[c].value)
    }

    /// The first attack: a total of 39, AM and TRS withheld, TRS + VAL published.
    #[test]
    fn a_small_cell_is_not_left_alone_beside_a_published_total() {
        let cases = vec![
            case("1", &["AM"], "Big", &[("HARM_KILLED", 2)]),
            case("2", &["TRS"], "Big", &[("HARM_KILLED", 4)]),
            case("3", &["VAL"], "Big", &[("HARM_KILLED", 33)]),
        ];
        let catalogue = [
            spec("victims", &[]),
            spec("victims_by_party", &[Dim::Party]),
        ];
        let computed = compute(&catalogue, &cases, &Gazetteer::load(None).unwrap());
        let p = protect(&computed, &[], 5, 5).unwrap();
        assert_eq!(value_of(&computed, &p, "victims_by_party", &["AM"]), None);
        assert_eq!(value_of(&computed, &p, "victims_by_party", &["TRS"]), None);
        // Their sum, 6, leaves each anywhere from 0 to 6: wide enough, VAL stays published.
        assert_eq!(
            value_of(&computed, &p, "victims_by_party", &["VAL"]),
            Some(33)
        );
        assert!(
            p.ranges
                .iter()
                .all(|r| r.upper.is_none_or(|u| u - r.lower >= 5.0))
        );
        // With a wider range asked for, more is withheld.
        let p = protect(&computed, &[], 5, 7).unwrap();
        let val = value_of(&computed, &p, "victims_by_party", &["VAL"]);
        let total = value_of(&computed, &p, "victims", &[]);
        assert!(val.is_none() || total.is_none(), "{p:?}");
        assert!(
            p.ranges
                .iter()
                .all(|r| r.upper.is_none_or(|u| u - r.lower >= 7.0))
        );
    }

    /// Two tables over the same victims: by harm and by party, linked through their atoms.
    #[test]
    fn every_withheld_range_is_wide_across_linked_tables() {
        let cases = vec![
            case(
                "1",
                &["AM"],
                "Big",
                &[("HARM_KILLED", 4), ("HARM_INJURED", 7)],
            ),
            case("2", &["AZ"], "Small", &[("HARM_INJURED", 20)]),
            case("3", &["AZ"], "Lowfield", &[("HARM_KILLED", 3)]),
            case("4", &["AZ"], "Big", &[("HARM_KILLED", 30)]),
        ];
        let catalogue = [
            spec("victims", &[]),
            spec("victims_by_party", &[Dim::Party]),
            spec("victims_by_harm", &[Dim::Harm]),
            spec("victims_by_region", &[Dim::Region]),
        ];
        let computed = compute(&catalogue, &cases, &Gazetteer::load(None).unwrap());
        let p = protect(&computed, &[], 5, 5).unwrap();
        assert!(!p.ranges.is_empty());
        for range in &p.ranges {
            assert!(
                range.upper.is_none_or(|u| u - range.lower >= 5.0),
                "{range:?}"
            );
        }
    }

    /// Ten cases over the default catalogue, as the report's smallest rendering: greedy picks
    /// alone, then with secondary cells tried back; fewer withheld, every range still wide.
    #[test]
    fn trying_secondary_cells_back_withholds_fewer_and_still_protects() {
        let catalogue = crate::release::catalogue::parse(
            &docket_platform::settings::ReleaseSettings::default().tables,
        )
        .unwrap();
        let harms = ["HARM_KILLED", "HARM_INJURED", "HARM_ILL_TREATED"];
        let parties = ["AM", "AZ", "TRS", "VAL"];
        let places = ["Big", "Small", "Lowfield"];
        let cases: Vec<_> = (0..10usize)
            .map(|i| {
                let mut c = case(
                    &format!("c{i:02}"),
                    &[parties[i % 4]],
                    places[i % 3],
                    &[
                        (harms[i % 3], 1 + (i as i64 * 7) % 9),
                        (harms[(i + 1) % 3], 2),
                    ],
                );
                c.week = format!("2020-W{:02}", 40 + i % 6);
                c
            })
            .collect();
        let computed = compute(&catalogue, &cases, &Gazetteer::load(None).unwrap());
        let figures: usize = computed.tables.iter().map(|t| t.cells.len()).sum();
        let withheld = |p: &Protection| p.count(Withheld::Primary) + p.count(Withheld::Secondary);
        let greedy = protect_with(&computed, &[], 5, 5, 0).unwrap();
        let kept = protect(&computed, &[], 5, 5).unwrap();
        eprintln!(
            "10 cases, {figures} figures: greedy withholds {} ({} secondary), tried back {} ({} \
             secondary)",
            withheld(&greedy),
            greedy.count(Withheld::Secondary),
            withheld(&kept),
            kept.count(Withheld::Secondary)
        );
        assert_eq!(
            greedy.count(Withheld::Primary),
            kept.count(Withheld::Primary)
        );
        assert!(withheld(&kept) < withheld(&greedy));
        for p in [&greedy, &kept] {
            assert!(p.ranges.iter().all(|r| !narrow(r, 5)), "{:?}", p.ranges);
            assert_eq!(p.ranges, audit(&computed, &p.withheld));
        }
    }

    #[test]
    fn a_small_change_since_an_earlier_release_is_withheld() {
        let cases = vec![case("1", &["AM"], "Big", &[("HARM_KILLED", 12)])];
        let catalogue = [spec("victims", &[])];
        let computed = compute(&catalogue, &cases, &Gazetteer::load(None).unwrap());
        let earlier = [EarlierCell {
            table: "victims".into(),
            keys: vec![],
            value: 10,
            withheld: false,
        }];
        let p = protect(&computed, &earlier, 5, 5).unwrap();
        assert_eq!(p.withheld[0][0], Some(Withheld::Primary));
    }
}
