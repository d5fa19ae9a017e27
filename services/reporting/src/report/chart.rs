//! The figures of one chart: categories down, series across, each cell a count or withheld.
//! Built from statistics answers only, so a chart shows exactly what `QueryStatistics` says.

use std::collections::{BTreeMap, BTreeSet};

use docket_proto::docket::reporting::v1 as pb;

/// A figure as the report may show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Count(i64),
    Suppressed,
}

impl Shown {
    fn of(row: &pb::StatisticsRow) -> Self {
        if row.suppressed {
            Self::Suppressed
        } else {
            Self::Count(row.value)
        }
    }

    /// The count, or 0 when withheld.
    pub fn count(self) -> i64 {
        match self {
            Self::Count(n) => n,
            Self::Suppressed => 0,
        }
    }
}

/// The total of `answer`, as it may be shown.
pub fn total(answer: &pb::QueryStatisticsResponse) -> Shown {
    if answer.total_suppressed {
        Shown::Suppressed
    } else {
        Shown::Count(answer.total)
    }
}

/// One series of a side-by-side chart: its name, its answer (grouped by one dimension) and how
/// a row key reads as a category.
pub struct Series<'a> {
    name: &'static str,
    answer: &'a pb::QueryStatisticsResponse,
    category: &'a dyn Fn(&str) -> String,
}

impl<'a> Series<'a> {
    pub fn new(
        name: &'static str,
        answer: &'a pb::QueryStatisticsResponse,
        category: &'a dyn Fn(&str) -> String,
    ) -> Self {
        Self {
            name,
            answer,
            category,
        }
    }
}

/// One chart and its table.
#[derive(Debug, Clone)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub category_label: String,
    pub categories: Vec<String>,
    pub series: Vec<String>,
    cells: BTreeMap<(String, String), Shown>,
    /// How categories and series read, where not by [`label`].
    names: BTreeMap<String, String>,
    /// What a withheld cell reads.
    pub withheld: &'static str,
}

impl Chart {
    /// A chart of an answer grouped by one dimension (one series, `count`) or two (the
    /// second gives the series).
    pub fn crossed(
        id: &'static str,
        title: &'static str,
        category_label: &'static str,
        answer: &pb::QueryStatisticsResponse,
    ) -> Self {
        let mut categories = Vec::new();
        let mut series = BTreeSet::new();
        let mut cells = BTreeMap::new();
        for row in &answer.rows {
            let Some(category) = row.keys.first() else {
                continue;
            };
            let name = row.keys.get(1).cloned().unwrap_or_else(|| "count".into());
            if !categories.contains(category) {
                categories.push(category.clone());
            }
            series.insert(name.clone());
            cells.insert((category.clone(), name), Shown::of(row));
        }
        Self {
            id: id.into(),
            title: title.into(),
            category_label: category_label.into(),
            categories,
            series: series.into_iter().collect(),
            cells,
            names: BTreeMap::new(),
            withheld: "suppressed",
        }
    }

    /// A chart whose series are separate answers over the same categories.
    pub fn side_by_side(
        id: &'static str,
        title: &'static str,
        category_label: &'static str,
        series: Vec<Series<'_>>,
    ) -> Self {
        let mut categories = BTreeSet::new();
        let mut cells = BTreeMap::new();
        for s in &series {
            for row in &s.answer.rows {
                let Some(key) = row.keys.first() else {
                    continue;
                };
                let category = (s.category)(key);
                categories.insert(category.clone());
                cells.insert((category, s.name.to_owned()), Shown::of(row));
            }
        }
        Self {
            id: id.into(),
            title: title.into(),
            category_label: category_label.into(),
            categories: categories.into_iter().collect(),
            series: series.iter().map(|s| s.name.to_owned()).collect(),
            cells,
            names: BTreeMap::new(),
            withheld: "suppressed",
        }
    }

    /// A chart of given cells: `categories` and `series` in the order shown, `names` saying how
    /// their keys read; withheld cells read "withheld".
    pub fn of_cells(
        id: String,
        title: String,
        category_label: String,
        (categories, series): (Vec<String>, Vec<String>),
        cells: BTreeMap<(String, String), Shown>,
        names: BTreeMap<String, String>,
    ) -> Self {
        Self {
            id,
            title,
            category_label,
            categories,
            series,
            cells,
            names,
            withheld: "withheld",
        }
    }

    /// How a category or series key reads.
    pub fn name(&self, key: &str) -> String {
        self.names.get(key).cloned().unwrap_or_else(|| label(key))
    }

    /// Takes out the categories whose every cell is withheld, so that a chart of few cases is
    /// not a wall of withheld stubs; returns them, to be named once beneath.
    pub fn take_withheld_categories(&mut self) -> Vec<String> {
        let (kept, withheld): (Vec<String>, Vec<String>) = std::mem::take(&mut self.categories)
            .into_iter()
            .partition(|c| {
                self.series
                    .iter()
                    .any(|s| self.cell(c, s) != Shown::Suppressed)
            });
        self.categories = kept;
        withheld
    }

    /// The cell of `category` in `series`: a row that is not there counts nothing.
    pub fn cell(&self, category: &str, series: &str) -> Shown {
        self.cells
            .get(&(category.to_owned(), series.to_owned()))
            .copied()
            .unwrap_or(Shown::Count(0))
    }

    /// The largest count shown, at least 1 (the scale of the bars).
    pub fn max(&self) -> i64 {
        self.cells
            .values()
            .map(|s| s.count())
            .max()
            .unwrap_or(0)
            .max(1)
    }

    /// Whether any cell is withheld.
    pub fn any_suppressed(&self) -> bool {
        self.cells.values().any(|s| *s == Shown::Suppressed)
    }
}

/// How a key reads to people: `HARM_BODY_DEFILED` is "body defiled"; codes stay as they are.
pub fn label(key: &str) -> String {
    const PREFIXES: [&str; 6] = [
        "HARM_",
        "AGE_GROUP_",
        "SEX_",
        "VICTIM_STATUS_",
        "CASE_STATUS_",
        "ALLEGATION_STATUS_",
    ];
    match PREFIXES.iter().find_map(|p| key.strip_prefix(p)) {
        Some(rest) => rest.replace('_', " ").to_lowercase(),
        None => key.to_owned(),
    }
}
