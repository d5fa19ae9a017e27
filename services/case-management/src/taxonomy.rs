//! The crime-type taxonomy, read once at start-up: the built-in Rome Statute Article 8 file, or
//! the one `case_management.taxonomy_file` names.

use std::path::Path;

use anyhow::Context;
use docket_domain::case::Taxonomy;
use serde::Deserialize;

/// The built-in taxonomy, compiled in so that the binary needs no data files to run.
const BUILT_IN: &str = include_str!("../taxonomy/rome-statute-art8.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    crime: Vec<CrimeEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CrimeEntry {
    code: String,
    title: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    elements: Vec<String>,
}

/// The taxonomy of the deployment: `file` if set, the built-in one otherwise.
pub fn load(file: Option<&Path>) -> anyhow::Result<Taxonomy> {
    match file {
        None => parse(BUILT_IN).context("the built-in crime-type taxonomy"),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the taxonomy file {}", path.display()))?;
            parse(&text).with_context(|| format!("the taxonomy file {}", path.display()))
        }
    }
}

fn parse(text: &str) -> anyhow::Result<Taxonomy> {
    let file: TaxonomyFile = toml::from_str(text)?;
    Taxonomy::new(
        file.crime
            .into_iter()
            .map(|c| (c.code, c.title, c.source, c.elements)),
    )
    .map_err(|violations| anyhow::anyhow!("{violations}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_violation_type_maps_onto_crimes_of_the_built_in_taxonomy() {
        use docket_domain::incident::ViolationType;
        let taxonomy = load(None).unwrap();
        for violation in ViolationType::ALL {
            let codes = violation.rome_statute_art8();
            assert_eq!(
                codes.is_empty(),
                *violation == ViolationType::Other,
                "{violation} is mapped"
            );
            for code in codes {
                assert!(
                    taxonomy.crimes().iter().any(|c| c.code.as_str() == *code),
                    "{violation} maps onto {code}, which the taxonomy lacks"
                );
            }
        }
    }

    #[test]
    fn the_built_in_taxonomy_holds_every_war_crime_of_article_8_2_a_and_b() {
        let taxonomy = load(None).unwrap();
        assert_eq!(taxonomy.crimes().len(), 8 + 26);
        let codes: Vec<&str> = taxonomy.crimes().iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes.first(), Some(&"icc.8.2.a.i"));
        assert_eq!(codes.last(), Some(&"icc.8.2.b.xxvi"));
        for code in [
            "icc.8.2.a.i",
            "icc.8.2.a.ii",
            "icc.8.2.b.i",
            "icc.8.2.b.ii",
            "icc.8.2.b.iv",
            "icc.8.2.b.x",
            "icc.8.2.b.xxi",
        ] {
            let crime = taxonomy.crimes().iter().find(|c| c.code.as_str() == code);
            assert!(
                crime.is_some_and(|c| c.elements.len() >= 4),
                "{code} carries its elements of crime"
            );
        }
    }

    #[test]
    fn a_bad_custom_taxonomy_is_refused_with_its_reason() {
        let error = parse("[[crime]]\ncode = \"Bad Code\"\ntitle = \"x\"\n").unwrap_err();
        assert!(error.to_string().contains("crimes[0].code"), "{error}");
        assert!(parse("[[crime]]\ncode = \"x\"\ntitel = \"typo\"\n").is_err());
    }
}
