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
pub fn suppress(cells: &mut [Cell], total: i64, threshold: i64) -> bool {
    for cell in cells.iter_mut() {
        cell.suppressed = cell.value > 0 && cell.value <= threshold;
    }
    loop {
        let withheld: Vec<i64> = cells
            .iter()
            .filter(|c| c.suppressed)
            .map(|c| c.value)
            .collect();
        let needs_more = withheld.len() == 1
            || (!withheld.is_empty() && withheld.iter().sum::<i64>() <= threshold);
        if !needs_more {
            break;
        }
        // The smallest shown non-empty cell joins the withheld ones.
        let next = cells
            .iter_mut()
            .filter(|c| !c.suppressed && c.value > 0)
            .min_by_key(|c| c.value);
        match next {
            Some(cell) => cell.suppressed = true,
            None => break,
        }
    }
    let total_suppressed = total > 0 && total <= threshold;
    for cell in cells.iter_mut().filter(|c| c.suppressed) {
        cell.value = 0;
    }
    total_suppressed
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
    fn a_small_total_is_withheld() {
        let mut table = cells(&[1, 2]);
        assert!(suppress(&mut table, 3, 5));
        assert_eq!(withheld(&table), [0, 1]);
    }
}
