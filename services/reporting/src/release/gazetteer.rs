//! The gazetteer: the administrative region of each place, the only geography the public sees.
//!
//! A place is found by its name first. Place names are free text (`Ganja, Shahriyar street`),
//! so a name is looked up whole and then by each of its comma-separated parts, first to last,
//! case and spacing ignored. A name the gazetteer does not know is then placed by the
//! incident's coordinates, when it has them, in the first *area* of the file that holds them:
//! a region's outline as a polygon of latitude/longitude vertices. A place found neither way is
//! counted in the region `unknown`, never under its own name, and coordinates are never shown.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::facts::{Point, UNKNOWN};

/// The built-in gazetteer for development and tests.
pub const DEFAULT: &str = include_str!("default-gazetteer.csv");

/// The header of the places, first in the file.
const PLACES_HEADER: &str = "place,region";
/// The header of the areas, after the places.
const AREAS_HEADER: &str = "region,area";

/// One region's outline (or one part of it): a simple polygon, not crossing the antimeridian.
#[derive(Debug, Clone)]
struct Area {
    region: String,
    /// Vertices as (latitude, longitude), the ring closed implicitly.
    vertices: Vec<(f64, f64)>,
    /// The bounding box (south, west, north, east), to pass over far points quickly.
    bounds: (f64, f64, f64, f64),
}

impl Area {
    /// Whether `point` is inside, by counting the edges a ray to the east crosses. Each edge
    /// is taken half-open (its southern end in, its northern end out), so a point on a border
    /// two areas share lies in one of them, the same one every time.
    fn contains(&self, point: Point) -> bool {
        let (lat, lon) = (point.latitude, point.longitude);
        let (south, west, north, east) = self.bounds;
        if lat < south || lat > north || lon < west || lon > east {
            return false;
        }
        let Some(&last) = self.vertices.last() else {
            return false;
        };
        let mut inside = false;
        let mut previous = last;
        for &vertex in &self.vertices {
            let ((lat_a, lon_a), (lat_b, lon_b)) = (previous, vertex);
            if (lat_a > lat) != (lat_b > lat) {
                let crossing = lon_a + (lat - lat_a) * (lon_b - lon_a) / (lat_b - lat_a);
                if lon < crossing {
                    inside = !inside;
                }
            }
            previous = vertex;
        }
        inside
    }
}

/// Place names and areas, and their regions.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    regions: BTreeMap<String, String>,
    areas: Vec<Area>,
    /// SHA-256 of the file, recorded in every release it shaped.
    pub sha256: String,
}

fn folded(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// An area line's vertices: `latitude longitude` pairs separated by `;`.
fn vertices(text: &str) -> anyhow::Result<Vec<(f64, f64)>> {
    let vertices = text
        .split(';')
        .map(|pair| {
            let mut numbers = pair.split_whitespace().map(str::parse::<f64>);
            match (numbers.next(), numbers.next(), numbers.next()) {
                (Some(Ok(lat)), Some(Ok(lon)), None)
                    if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
                {
                    Ok((lat, lon))
                }
                _ => bail!(
                    "{:?} is not `latitude longitude` in degrees (-90 to 90, -180 to 180)",
                    pair.trim()
                ),
            }
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if vertices.len() < 3 {
        bail!("an area needs at least three vertices");
    }
    Ok(vertices)
}

impl Gazetteer {
    /// Reads the gazetteer's text: a header line `place,region`, then one place a line; then,
    /// optionally, a header line `region,area` and one area a line, `region,lat lon; lat lon;
    /// lat lon; …` (at least three vertices in degrees, the ring closed implicitly; a region
    /// may have several areas; a rectangle is its four corners). Blank lines and lines starting
    /// with `#` are skipped; a place listed twice with two regions is an error.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let header = |line: &str| folded(line).replace(' ', "");
        match lines.next() {
            Some((_, line)) if header(line) == PLACES_HEADER => {}
            _ => bail!("the gazetteer must start with the header line `{PLACES_HEADER}`"),
        }
        let mut regions = BTreeMap::new();
        let mut areas = Vec::new();
        let mut in_areas = false;
        for (number, line) in lines {
            let number = number + 1;
            if header(line) == AREAS_HEADER {
                if in_areas {
                    bail!("gazetteer line {number}: `{AREAS_HEADER}` a second time");
                }
                in_areas = true;
                continue;
            }
            if in_areas {
                let (region, outline) = line
                    .split_once(',')
                    .with_context(|| format!("gazetteer line {number}: not `region,area`"))?;
                let region = region.trim().to_owned();
                if region.is_empty() {
                    bail!("gazetteer line {number}: empty region");
                }
                let vertices =
                    vertices(outline).with_context(|| format!("gazetteer line {number}"))?;
                let mut bounds = (f64::INFINITY, f64::INFINITY, -f64::INFINITY, -f64::INFINITY);
                for &(lat, lon) in &vertices {
                    bounds = (
                        bounds.0.min(lat),
                        bounds.1.min(lon),
                        bounds.2.max(lat),
                        bounds.3.max(lon),
                    );
                }
                areas.push(Area {
                    region,
                    vertices,
                    bounds,
                });
                continue;
            }
            let (place, region) = line
                .rsplit_once(',')
                .with_context(|| format!("gazetteer line {number}: not `place,region`"))?;
            let (place, region) = (folded(place), region.trim().to_owned());
            if place.is_empty() || region.is_empty() || region.contains(',') {
                bail!("gazetteer line {number}: empty place or region");
            }
            if let Some(other) = regions.insert(place.clone(), region.clone())
                && other != region
            {
                bail!("gazetteer: {place:?} is in both {other:?} and {region:?}");
            }
        }
        Ok(Self {
            regions,
            areas,
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

    /// The region of the place `name` as recorded, or else of the incident's `coordinates`, or
    /// `unknown`.
    pub fn region(&self, name: &str, coordinates: Option<Point>) -> String {
        let by_name = (name != UNKNOWN)
            .then(|| {
                std::iter::once(name)
                    .chain(name.split(','))
                    .map(folded)
                    .find_map(|candidate| self.regions.get(&candidate))
            })
            .flatten();
        let by_area = || {
            coordinates.and_then(|point| {
                self.areas
                    .iter()
                    .find(|area| area.contains(point))
                    .map(|area| &area.region)
            })
        };
        by_name
            .or_else(by_area)
            .map_or_else(|| UNKNOWN.to_owned(), Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(latitude: f64, longitude: f64) -> Option<Point> {
        Point::new(Some(latitude), Some(longitude))
    }

    #[test]
    fn a_place_is_found_whole_or_by_a_part_and_never_shown_itself() {
        let gazetteer =
            Gazetteer::parse("place,region\nGanja,Ganja city\nTesk bus depot, North\n").unwrap();
        assert_eq!(
            gazetteer.region("ganja,  Shahriyar street", None),
            "Ganja city"
        );
        assert_eq!(gazetteer.region("Tesk  bus depot", None), "North");
        assert_eq!(gazetteer.region("A farm near Tesk", None), "unknown");
    }

    #[test]
    fn an_unknown_name_is_placed_by_its_coordinates_and_a_known_name_wins() {
        let gazetteer = Gazetteer::parse(
            "place,region\nGanja,Ganja\n\nregion,area\n\
             # A triangle and a square sharing the edge along latitude 41.\n\
             North, 41 46; 42 46; 41 47\n\
             South,40 46;41 46;41 47;40 47\n",
        )
        .unwrap();
        assert_eq!(
            gazetteer.region("A farm near Tesk", at(41.2, 46.2)),
            "North"
        );
        assert_eq!(
            gazetteer.region("A farm near Tesk", at(40.5, 46.5)),
            "South"
        );
        // Outside the triangle, though inside its bounding box.
        assert_eq!(gazetteer.region("A farm", at(41.9, 46.9)), "unknown");
        assert_eq!(gazetteer.region("A farm", at(10.0, 10.0)), "unknown");
        assert_eq!(gazetteer.region("A farm", None), "unknown");
        assert_eq!(gazetteer.region("unknown", at(40.5, 46.5)), "South");
        // The name decides where the gazetteer knows it.
        assert_eq!(gazetteer.region("Ganja, a street", at(41.2, 46.2)), "Ganja");
        // A point on the shared border lies in exactly one of the two areas.
        let border = at(41.0, 46.5).unwrap();
        let holding = gazetteer
            .areas
            .iter()
            .filter(|area| area.contains(border))
            .count();
        assert_eq!(holding, 1);
    }

    #[test]
    fn malformed_areas_are_refused_with_their_line() {
        for bad in [
            "place,region\nregion,area\nNorth,41 46; 42 46\n",
            "place,region\nregion,area\nNorth,41 46; 42 46; 91 47\n",
            "place,region\nregion,area\nNorth,41 46; 42; 41 47\n",
            "place,region\nregion,area\n,41 46; 42 46; 41 47\n",
            "place,region\nregion,area\nregion,area\n",
        ] {
            let error = Gazetteer::parse(bad).unwrap_err();
            assert!(
                format!("{error:#}").contains("line 3"),
                "{bad:?}: {error:#}"
            );
        }
    }

    #[test]
    fn the_built_in_gazetteer_reads() {
        let gazetteer = Gazetteer::load(None).unwrap();
        assert_eq!(gazetteer.region("Ganja, Shahriyar street", None), "Ganja");
    }
}
