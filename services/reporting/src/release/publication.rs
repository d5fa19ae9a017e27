//! The words of a release beside its figures: the office, period, scope and method from
//! settings, the parties' names from settings and the crime types' titles from the taxonomy
//! case management qualifies cases with (the same file, read here for its titles only).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use docket_platform::Settings;
use serde::Deserialize;

use super::catalogue::Dim;
use super::document::Publication;
use super::tables::Table;

/// Case management's built-in taxonomy: read here for its titles, so that the public report
/// names crimes as the Rome Statute does without reporting depending on case management.
const BUILT_IN_TAXONOMY: &str =
    include_str!("../../../case-management/taxonomy/rome-statute-art8.toml");

#[derive(Debug, Deserialize)]
struct TaxonomyFile {
    crime: Vec<Crime>,
}

#[derive(Debug, Deserialize)]
struct Crime {
    code: String,
    title: String,
}

/// What every release of a deployment says of itself, read once at start-up.
#[derive(Debug, Clone, Default)]
pub struct Words {
    office_name: String,
    period: String,
    scope: String,
    method: String,
    /// Upper-cased code to name.
    parties: BTreeMap<String, String>,
    crime_types: BTreeMap<String, String>,
}

fn titles(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let file: TaxonomyFile = toml::from_str(text)?;
    Ok(file
        .crime
        .into_iter()
        .map(|c| (c.code, c.title.trim().to_owned()))
        .collect())
}

impl Words {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let publication = &settings.reporting.release.publication;
        let crime_types = match settings.case_management.taxonomy_file.as_deref() {
            None => titles(BUILT_IN_TAXONOMY).context("the built-in taxonomy")?,
            Some(path) => read_titles(path)?,
        };
        Ok(Self {
            office_name: publication.office_name.trim().to_owned(),
            period: publication.period.trim().to_owned(),
            scope: publication.scope.trim().to_owned(),
            method: publication.method.trim().to_owned(),
            parties: publication
                .party_names
                .iter()
                .map(|(code, name)| (code.trim().to_uppercase(), name.trim().to_owned()))
                .collect(),
            crime_types,
        })
    }

    /// The publication of a release of `tables`: only the parties and crime types that appear.
    pub fn for_tables(&self, tables: &[Table]) -> Publication {
        let mut parties = BTreeMap::new();
        let mut crime_types = BTreeMap::new();
        for table in tables {
            for (position, dim) in table.spec.by.iter().enumerate() {
                for cell in &table.cells {
                    let Some(key) = cell.keys.get(position) else {
                        continue;
                    };
                    match dim {
                        Dim::Party | Dim::VictimParty => {
                            if let Some(name) = self.parties.get(&key.to_uppercase()) {
                                parties.insert(key.clone(), name.clone());
                            }
                        }
                        Dim::CrimeType => {
                            if let Some(title) = self.crime_types.get(key) {
                                crime_types.insert(key.clone(), title.clone());
                            }
                        }
                        Dim::Harm
                        | Dim::VictimStatus
                        | Dim::AgeGroup
                        | Dim::Sex
                        | Dim::AgeBand
                        | Dim::Month
                        | Dim::Week
                        | Dim::Region
                        | Dim::InAbsentia => {}
                    }
                }
            }
        }
        Publication {
            office_name: self.office_name.clone(),
            period: self.period.clone(),
            scope: self.scope.clone(),
            method: self.method.clone(),
            parties,
            crime_types,
        }
    }
}

fn read_titles(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the taxonomy file {}", path.display()))?;
    titles(&text).with_context(|| format!("the taxonomy file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_taxonomy_gives_titles() {
        let titles = titles(BUILT_IN_TAXONOMY).unwrap();
        assert_eq!(titles["icc.8.2.a.i"], "Wilful killing");
    }
}
