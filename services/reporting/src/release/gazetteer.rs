//! The gazetteer: the administrative region of each place name, the only geography the public
//! sees. Place names are free text (`Ganja, Shahriyar street`), so a name is looked up whole and
//! then by each of its comma-separated parts, first to last, case and spacing ignored; a place
//! the gazetteer does not know is counted in the region `unknown`, never under its own name.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::facts::UNKNOWN;

/// The built-in gazetteer for development and tests.
pub const DEFAULT: &str = include_str!("default-gazetteer.csv");

/// Place names and their regions.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    regions: BTreeMap<String, String>,
    /// SHA-256 of the file, recorded in every release it shaped.
    pub sha256: String,
}

fn folded(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl Gazetteer {
    /// Reads a CSV text: a header line `place,region`, then one place a line. Blank lines and
    /// lines starting with `#` are skipped; a place listed twice with two regions is an error.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        match lines.next() {
            Some((_, header)) if folded(header).replace(' ', "") == "place,region" => {}
            _ => bail!("the gazetteer must start with the header line `place,region`"),
        }
        let mut regions = BTreeMap::new();
        for (number, line) in lines {
            let (place, region) = line
                .rsplit_once(',')
                .with_context(|| format!("gazetteer line {}: not `place,region`", number + 1))?;
            let (place, region) = (folded(place), region.trim().to_owned());
            if place.is_empty() || region.is_empty() || region.contains(',') {
                bail!("gazetteer line {}: empty place or region", number + 1);
            }
            if let Some(other) = regions.insert(place.clone(), region.clone())
                && other != region
            {
                bail!("gazetteer: {place:?} is in both {other:?} and {region:?}");
            }
        }
        Ok(Self {
            regions,
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
        })
    }

    /// The gazetteer of `file`, or the built-in one.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        match file {
            None => Self::parse(DEFAULT),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the gazetteer {}", path.display()))?;
                Self::parse(&text).with_context(|| format!("gazetteer {}", path.display()))
            }
        }
    }

    /// The region of the place `name` as recorded, or `unknown`.
    pub fn region(&self, name: &str) -> String {
        let whole = std::iter::once(name);
        whole
            .chain(name.split(','))
            .map(folded)
            .find_map(|candidate| self.regions.get(&candidate))
            .map_or_else(|| UNKNOWN.to_owned(), Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_found_whole_or_by_a_part_and_never_shown_itself() {
        let gazetteer =
            Gazetteer::parse("place,region\nGanja,Ganja city\nTesk bus depot, North\n").unwrap();
        assert_eq!(gazetteer.region("ganja,  Shahriyar street"), "Ganja city");
        assert_eq!(gazetteer.region("Tesk  bus depot"), "North");
        assert_eq!(gazetteer.region("A farm near Tesk"), "unknown");
    }

    #[test]
    fn the_built_in_gazetteer_reads() {
        let gazetteer = Gazetteer::load(None).unwrap();
        assert_eq!(gazetteer.region("Ganja, Shahriyar street"), "Ganja");
    }
}
