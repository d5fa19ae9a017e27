//! Statistical disclosure control for the public audience.
//!
//! Primary suppression withholds every count from 1 up to the threshold: a small count can point
//! at identifiable people. Secondary (complementary) suppression then makes sure no withheld
//! count can be worked out from what is shown: since the total is shown beside the cells, a
//! single withheld cell would be the total minus the others, so while exactly one cell is
//! withheld, the smallest shown cell is withheld too; and when the withheld cells together come
//! to no more than the threshold, more are withheld until their sum exceeds it (or all are),
//! so that even their sum reveals no small group. A total at or below the threshold is withheld
//! itself. Zero is never withheld: an empty cell discloses nobody.

/// One cell before suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub keys: Vec<String>,
    pub value: i64,
    pub suppressed: bool,
}

/// Applies primary and complementary suppression to `cells` and says whether `total` must be
/// withheld.
///
/// The rule for the whole table is applied also to each of its lines — the cells that share
/// every key but one — because a line's sum can be asked for on its own (the same statistic
/// grouped by one dimension fewer), and would give back a lone withheld cell of that line.
pub fn suppress(cells: &mut [Cell], total: i64, threshold: i64) -> bool {
    for cell in cells.iter_mut() {
        cell.suppressed = cell.value > 0 && cell.value <= threshold;
    }
    let lines = lines(cells);
    // Each round withholds at least one more cell, so this ends.
    while let Some(next) = lines
        .iter()
        .find_map(|line| needs_more(cells, line, threshold))
    {
        cells[next].suppressed = true;
    }
    let total_suppressed = total > 0 && total <= threshold;
    for cell in cells.iter_mut().filter(|c| c.suppressed) {
        cell.value = 0;
    }
    total_suppressed
}

/// The whole table, and for tables of more than one dimension each line: the indexes of cells
/// equal in every key but the `i`-th, for each `i`.
fn lines(cells: &[Cell]) -> Vec<Vec<usize>> {
    let mut lines = vec![(0..cells.len()).collect::<Vec<_>>()];
    let dimensions = cells.first().map_or(0, |c| c.keys.len());
    if dimensions < 2 {
        return lines;
    }
    for free in 0..dimensions {
        let mut by_rest: std::collections::BTreeMap<Vec<&str>, Vec<usize>> = Default::default();
        for (index, cell) in cells.iter().enumerate() {
            let rest = cell
                .keys
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != free)
                .map(|(_, key)| key.as_str())
                .collect();
            by_rest.entry(rest).or_default().push(index);
        }
        lines.extend(by_rest.into_values());
    }
    lines
}

/// The cell of `line` to withhold next, if its withheld cells could be worked out from what is
/// shown: exactly one is withheld, or together they come to no more than the threshold. It is
/// the smallest shown non-empty cell of the line.
fn needs_more(cells: &[Cell], line: &[usize], threshold: i64) -> Option<usize> {
    let withheld: Vec<i64> = line
        .iter()
        .filter(|i| cells[**i].suppressed)
        .map(|i| cells[*i].value)
        .collect();
    let exposed =
        withheld.len() == 1 || (!withheld.is_empty() && withheld.iter().sum::<i64>() <= threshold);
    if !exposed {
        return None;
    }
    line.iter()
        .copied()
        .filter(|i| !cells[*i].suppressed && cells[*i].value > 0)
        .min_by_key(|i| cells[*i].value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(values: &[i64]) -> Vec<Cell> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Cell {
                keys: vec![i.to_string()],
                value: *v,
                suppressed: false,
            })
            .collect()
    }

    fn withheld(cells: &[Cell]) -> Vec<usize> {
        cells
            .iter()
            .enumerate()
            .filter(|(_, c)| c.suppressed)
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn small_counts_are_withheld_and_zero_and_large_ones_shown() {
        let mut table = cells(&[0, 12, 30, 40]);
        assert!(!suppress(&mut table, 82, 5));
        assert!(withheld(&table).is_empty());
        let mut table = cells(&[3, 4, 30, 40]);
        suppress(&mut table, 77, 5);
        // 3 + 4 = 7 > 5: two withheld cells whose sum says nothing about either.
        assert_eq!(withheld(&table), [0, 1]);
        assert!(table.iter().filter(|c| c.suppressed).all(|c| c.value == 0));
    }

    #[test]
    fn a_lone_withheld_cell_takes_the_smallest_other_with_it() {
        let mut table = cells(&[2, 30, 9, 40]);
        suppress(&mut table, 81, 5);
        // Without the 9, total − 30 − 9 − 40 would give the 2 back.
        assert_eq!(withheld(&table), [0, 2]);
    }

    #[test]
    fn withheld_cells_whose_sum_is_small_take_more_with_them() {
        let mut table = cells(&[1, 2, 7, 50]);
        suppress(&mut table, 60, 5);
        // 1 + 2 = 3 would disclose a group of three; the 7 joins them.
        assert_eq!(withheld(&table), [0, 1, 2]);
    }

    #[test]
    fn each_line_of_a_table_of_two_dimensions_is_protected_too() {
        // Party × crime type: AM | A 30, B 3, C 12; AZ | A 20, B 40, C 25.
        let mut table: Vec<Cell> = [
            ("AM", "A", 30),
            ("AM", "B", 3),
            ("AM", "C", 12),
            ("AZ", "A", 20),
            ("AZ", "B", 40),
            ("AZ", "C", 25),
        ]
        .iter()
        .map(|(party, crime, value)| Cell {
            keys: vec![(*party).to_owned(), (*crime).to_owned()],
            value: *value,
            suppressed: false,
        })
        .collect();
        suppress(&mut table, 130, 5);
        // AM's own line needs a second withheld cell (its 12), or AM's count by party alone
        // would give the 3 back; and crime B's column needs one too (AZ's 40).
        let withheld = withheld(&table);
        assert!(
            withheld.contains(&1) && withheld.contains(&2),
            "{withheld:?}"
        );
        assert!(withheld.contains(&4), "{withheld:?}");
        // Then crime C's column has one withheld cell (AM's 12), so AZ's 25 follows; and AZ's
        // line has two (40 and 25), whose sum is large.
        assert!(withheld.contains(&5), "{withheld:?}");
    }

    #[test]
    fn a_small_total_is_withheld() {
        let mut table = cells(&[1, 2]);
        assert!(suppress(&mut table, 3, 5));
        assert_eq!(withheld(&table), [0, 1]);
    }
}
