//! Allegations that probably describe the same incident: candidates come from the index (near
//! the place, around the period, sharing names and words), and each is scored on place, time,
//! what was alleged and the narratives' shared folded words.

use std::collections::{BTreeSet, HashMap};

use docket_search::fold::fold_text;
use docket_search::geo::{Circle, km};
use docket_search::{Ask, Indexed, Live};

/// Candidates scoring below this are not proposed.
pub const MIN_SCORE: f64 = 0.7;
/// Places this far apart (km) or more count as different places.
const FAR_KM: f64 = 25.0;
/// Places this close (km) or closer count as the same place.
const NEAR_KM: f64 = 2.0;
/// Slack on either side of an incident period, in seconds: dates given by different sources
/// of one incident are often a day apart.
const SLACK: i64 = 86_400;
/// Each question to the index brings at most this many candidates.
const PER_QUESTION: usize = 200;

/// Weights of place, time, violations, parties and text; they sum to 1.
const W_PLACE: f64 = 0.35;
const W_TIME: f64 = 0.35;
const W_VIOLATION: f64 = 0.10;
const W_PARTY: f64 = 0.05;
const W_TEXT: f64 = 0.15;
/// What an unknown place or period contributes (of its weight): neither for nor against.
const UNKNOWN: f64 = 0.3;

/// A candidate and why.
#[derive(Debug, Clone)]
pub struct Scored {
    pub doc: Indexed,
    pub score: f64,
    pub distance_km: Option<f64>,
    pub periods_overlap: Option<bool>,
    pub text_similarity: f64,
}

fn keys(doc: &Indexed) -> BTreeSet<String> {
    fold_text(&format!("{} {}", doc.narrative, doc.place_name))
        .split(' ')
        .filter(|k| k.len() >= 3)
        .map(str::to_owned)
        .collect()
}

fn jaccard<T: Ord>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let common = a.intersection(b).count() as f64;
    Some(common / (a.len() + b.len()) as f64 * 2.0)
}

/// How likely `a` and `b` describe one incident, and why.
pub fn score(a: &Indexed, b: &Indexed, a_keys: &BTreeSet<String>) -> Scored {
    let distance_km = match (a.latitude, a.longitude, b.latitude, b.longitude) {
        (Some(a1), Some(a2), Some(b1), Some(b2)) => Some(km(a1, a2, b1, b2)),
        _ => None,
    };
    let a_place = fold_text(&a.place_name);
    let b_place = fold_text(&b.place_name);
    let place = match distance_km {
        Some(d) if d <= NEAR_KM => 1.0,
        Some(d) => (1.0 - (d - NEAR_KM) / (FAR_KM - NEAR_KM)).max(0.0),
        None if !a_place.is_empty() && a_place == b_place => 0.9,
        None if !a_place.is_empty() && !b_place.is_empty() => 0.0,
        None => UNKNOWN,
    };
    let periods_overlap = match (a.period, b.period) {
        (Some((s1, e1)), Some((s2, e2))) => Some(s1 - SLACK <= e2 && s2 - SLACK <= e1),
        _ => None,
    };
    // Two incidents at one place on days apart are two incidents.
    let time = match periods_overlap {
        Some(true) => 1.0,
        Some(false) => 0.0,
        None => UNKNOWN,
    };
    let violation = jaccard(
        &a.violation_types.iter().collect(),
        &b.violation_types.iter().collect(),
    )
    .unwrap_or(UNKNOWN);
    let party = jaccard(
        &a.party_codes.iter().collect(),
        &b.party_codes.iter().collect(),
    )
    .unwrap_or(0.5);
    let b_keys = keys(b);
    let text_similarity = jaccard(a_keys, &b_keys).unwrap_or(0.0);
    // Narratives of one incident in two languages share mostly names and places: a third of
    // the words in common is already a strong sign.
    let text = (text_similarity * 3.0).min(1.0);
    let score =
        W_PLACE * place + W_TIME * time + W_VIOLATION * violation + W_PARTY * party + W_TEXT * text;
    Scored {
        doc: b.clone(),
        score,
        distance_km,
        periods_overlap,
        text_similarity,
    }
}

/// The allegations of `live` that probably describe `this` incident, best first, at most
/// `limit`, each scoring at least [`MIN_SCORE`].
pub fn candidates(live: &Live, this: &Indexed, limit: usize) -> tantivy::Result<Vec<Scored>> {
    let mut asks = Vec::new();
    let except = Some(this.id.clone());
    if let (Some(latitude), Some(longitude)) = (this.latitude, this.longitude) {
        let circle = Circle {
            latitude,
            longitude,
            radius_km: FAR_KM,
        };
        asks.push(Ask {
            boxed: Some(circle.bounds()),
            except: except.clone(),
            ..Ask::default()
        });
    }
    if let Some((start, end)) = this.period {
        asks.push(Ask {
            period: (Some(start - SLACK), Some(end + SLACK)),
            except: except.clone(),
            ..Ask::default()
        });
    }
    // Names and places, whatever the script: the narrative's own words, at most the first
    // few thousand characters of it.
    let words: String = format!("{} {}", this.place_name, this.narrative)
        .chars()
        .take(4_000)
        .collect();
    asks.push(Ask {
        words,
        except,
        ..Ask::default()
    });
    let mut seen: HashMap<String, Indexed> = HashMap::new();
    for ask in asks {
        let (found, _) = live.search(&ask, None, 0, PER_QUESTION, false)?;
        for f in found {
            seen.entry(f.doc.id.clone()).or_insert(f.doc);
        }
    }
    let this_keys = keys(this);
    let mut scored: Vec<Scored> = seen
        .values()
        .map(|doc| score(this, doc, &this_keys))
        .filter(|s| s.score >= MIN_SCORE)
        .collect();
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.doc.id.cmp(&b.doc.id))
    });
    scored.truncate(limit);
    Ok(scored)
}
