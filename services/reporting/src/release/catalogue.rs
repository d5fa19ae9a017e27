//! The catalogue of release tables, read once from settings: what each table counts and what it
//! is grouped by. A table that names an unknown measure or dimension stops the service at
//! start-up rather than failing the first release.

use anyhow::{Context, bail};
use docket_platform::settings::ReleaseTableSettings;

/// What a release table counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// Cases, each once.
    Cases,
    /// People harmed, from the cases' casualty figures.
    Victims,
    /// Charges.
    Charges,
    /// Distinct charged persons.
    Accused,
}

impl Measure {
    pub const ALL: [Measure; 4] = [
        Measure::Cases,
        Measure::Victims,
        Measure::Charges,
        Measure::Accused,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Measure::Cases => "cases",
            Measure::Victims => "victims",
            Measure::Charges => "charges",
            Measure::Accused => "accused",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// What a release table can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dim {
    Party,
    CrimeType,
    Harm,
    VictimStatus,
    AgeGroup,
    Sex,
    /// The victims' side: the party the victims belong to, or `unknown`.
    VictimParty,
    /// The children's age band where known (under 5, 5–11, 12–17), the age group otherwise.
    AgeBand,
    /// The month of the incident's ISO week (the month holding its Thursday).
    Month,
    /// The ISO week of the incident (`2020-W41`).
    Week,
    /// The administrative region of the incident's place, from the gazetteer.
    Region,
    InAbsentia,
}

impl Dim {
    pub const ALL: [Dim; 12] = [
        Dim::Party,
        Dim::CrimeType,
        Dim::Harm,
        Dim::VictimStatus,
        Dim::AgeGroup,
        Dim::Sex,
        Dim::VictimParty,
        Dim::AgeBand,
        Dim::Month,
        Dim::Week,
        Dim::Region,
        Dim::InAbsentia,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dim::Party => "party",
            Dim::CrimeType => "crime_type",
            Dim::Harm => "harm",
            Dim::VictimStatus => "victim_status",
            Dim::AgeGroup => "age_group",
            Dim::Sex => "sex",
            Dim::VictimParty => "victim_party",
            Dim::AgeBand => "age_band",
            Dim::Month => "month",
            Dim::Week => "week",
            Dim::Region => "region",
            Dim::InAbsentia => "in_absentia",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Whether the dimension applies to `measure`.
    pub fn applies(self, measure: Measure) -> bool {
        match self {
            Dim::Party | Dim::CrimeType | Dim::Month | Dim::Week | Dim::Region => true,
            Dim::Harm
            | Dim::VictimStatus
            | Dim::AgeGroup
            | Dim::Sex
            | Dim::VictimParty
            | Dim::AgeBand => measure == Measure::Victims,
            Dim::InAbsentia => matches!(measure, Measure::Charges | Measure::Accused),
        }
    }
}

/// One table of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub name: String,
    pub measure: Measure,
    pub by: Vec<Dim>,
}

/// The catalogue set in settings, checked.
pub fn parse(tables: &[ReleaseTableSettings]) -> anyhow::Result<Vec<TableSpec>> {
    if tables.is_empty() {
        bail!("`reporting.release.tables` lists no table");
    }
    let mut specs: Vec<TableSpec> = Vec::new();
    for table in tables {
        let context = || format!("release table {:?}", table.name);
        let name = table.name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            bail!(
                "release table name {:?} must be 1 to 64 lower-case letters, digits or `_`",
                table.name
            );
        }
        if specs.iter().any(|s| s.name == name) {
            bail!("release table {name:?} is listed twice");
        }
        let measure = Measure::parse(&table.measure)
            .with_context(|| format!("unknown measure {:?}", table.measure))
            .with_context(context)?;
        if table.by.len() > 2 {
            bail!("release table {name:?}: at most two dimensions");
        }
        let mut by = Vec::new();
        for raw in &table.by {
            let dim = Dim::parse(raw)
                .with_context(|| format!("unknown dimension {raw:?}"))
                .with_context(context)?;
            if !dim.applies(measure) || by.contains(&dim) {
                bail!(
                    "release table {name:?}: {raw:?} does not apply to {} or repeats",
                    measure.name()
                );
            }
            by.push(dim);
        }
        specs.push(TableSpec {
            name: name.to_owned(),
            measure,
            by,
        });
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalogue_is_valid() {
        let settings = docket_platform::settings::ReleaseSettings::default();
        let specs = parse(&settings.tables).unwrap();
        assert!(specs.iter().any(|s| s.by == [Dim::CrimeType, Dim::Party]));
    }

    #[test]
    fn a_dimension_that_does_not_apply_is_refused() {
        let table = ReleaseTableSettings {
            name: "cases_by_harm".into(),
            measure: "cases".into(),
            by: vec!["harm".into()],
        };
        assert!(parse(&[table]).is_err());
    }
}
