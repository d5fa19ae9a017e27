//! Checked `SearchAllegations` and `ListSimilarAllegations` requests.

use docket_domain::Violations;
use docket_domain::allegation::{AllegationStatus, Channel};
use docket_domain::incident::ViolationType;
use docket_platform::paging::{decode_token, encode_token};
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::{decode_enum, parse_time};
use uuid::Uuid;

use super::parse_allegation_id;
use crate::search::Ask;
use crate::search::similar::Circle;

/// The longest query accepted, in characters.
const MAX_QUERY: usize = 500;
/// The most hits one page holds.
const MAX_PAGE: i32 = 100;
/// The widest radius accepted, in kilometres.
const MAX_RADIUS_KM: f64 = 2_000.0;
/// The most values of one filter.
const MAX_VALUES: usize = 50;

/// A checked search: the question, the circle to keep to, where the page starts and its size,
/// and the filters the page token is bound to.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub ask: Ask,
    pub circle: Option<Circle>,
    pub offset: usize,
    pub limit: usize,
    pub filters: String,
}

impl SearchQuery {
    /// The token that reads on after `returned` more hits.
    pub fn next_token(&self, returned: usize) -> String {
        let next = (self.offset + returned) as u64;
        encode_token(&next.to_be_bytes(), &self.filters)
    }
}

fn enums<W, D>(v: &mut Violations, field: &str, raw: &[i32]) -> Vec<i32>
where
    W: TryFrom<i32>,
    D: TryFrom<W>,
{
    if raw.len() > MAX_VALUES {
        v.add(field, format!("at most {MAX_VALUES} values"));
    }
    for (i, value) in raw.iter().enumerate() {
        if decode_enum::<W, D>(v, &format!("{field}[{i}]"), *value).is_none() && *value == 0 {
            v.add(format!("{field}[{i}]"), "must not be unspecified");
        }
    }
    raw.to_vec()
}

fn coordinate(v: &mut Violations, field: &str, value: f64, bound: f64) {
    if !value.is_finite() || value.abs() > bound {
        v.add(field, format!("must be a number from -{bound} to {bound}"));
    }
}

/// A checked `SearchAllegationsRequest`.
pub fn search(r: &pb::SearchAllegationsRequest) -> Result<SearchQuery, Violations> {
    let mut v = Violations::default();
    let words = r.query.trim().to_owned();
    if words.chars().count() > MAX_QUERY {
        v.add("query", format!("at most {MAX_QUERY} characters"));
    }
    if words
        .chars()
        .any(|c| c.is_control() && c != '\t' && c != '\n' && c != '\r')
    {
        v.add("query", "must not hold control characters");
    }
    let mut time = |field: &str, t: &Option<prost_types::Timestamp>| {
        t.as_ref().and_then(|t| match parse_time(t) {
            Ok(time) => Some(time.timestamp()),
            Err(why) => {
                v.add(field, why);
                None
            }
        })
    };
    let from = time("incident_from_time", &r.incident_from_time);
    let to = time("incident_to_time", &r.incident_to_time);
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        v.add("incident_to_time", "must not be before incident_from_time");
    }
    let circle = r.within_radius.as_ref().map(|c| {
        coordinate(&mut v, "within_radius.latitude", c.latitude, 90.0);
        coordinate(&mut v, "within_radius.longitude", c.longitude, 180.0);
        if !(c.radius_km > 0.0 && c.radius_km <= MAX_RADIUS_KM) {
            v.add(
                "within_radius.radius_km",
                format!("must be more than 0 and at most {MAX_RADIUS_KM}"),
            );
        }
        Circle {
            latitude: c.latitude,
            longitude: c.longitude,
            radius_km: c.radius_km,
        }
    });
    let boxed = r.within_box.as_ref().map(|b| {
        coordinate(&mut v, "within_box.min_latitude", b.min_latitude, 90.0);
        coordinate(&mut v, "within_box.max_latitude", b.max_latitude, 90.0);
        coordinate(&mut v, "within_box.min_longitude", b.min_longitude, 180.0);
        coordinate(&mut v, "within_box.max_longitude", b.max_longitude, 180.0);
        if b.max_latitude < b.min_latitude {
            v.add("within_box.max_latitude", "must not be below min_latitude");
        }
        if b.max_longitude < b.min_longitude {
            v.add(
                "within_box.max_longitude",
                "must not be below min_longitude",
            );
        }
        (
            b.min_latitude,
            b.min_longitude,
            b.max_latitude,
            b.max_longitude,
        )
    });
    if r.party_codes.len() > MAX_VALUES {
        v.add("party_codes", format!("at most {MAX_VALUES} values"));
    }
    for (i, code) in r.party_codes.iter().enumerate() {
        if code.is_empty()
            || code.len() > 16
            || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            v.add(
                format!("party_codes[{i}]"),
                "must be a party code such as `AZ` or `AM-NK`",
            );
        }
    }
    let violation_types = enums::<common::ViolationType, ViolationType>(
        &mut v,
        "violation_types",
        &r.violation_types,
    );
    let statuses = enums::<pb::AllegationStatus, AllegationStatus>(&mut v, "statuses", &r.statuses);
    let channels = enums::<pb::Channel, Channel>(&mut v, "channels", &r.channels);
    let limit = match r.page_size {
        0 => 20,
        n @ 1..=MAX_PAGE => n as usize,
        _ => {
            v.add(
                "page_size",
                format!("must be between 1 and {MAX_PAGE} (0 means 20)"),
            );
            0
        }
    };
    let ask = Ask {
        words,
        period: (from, to),
        // A circle is searched as its box, then kept to the circle.
        boxed: match (boxed, circle) {
            (Some(b), Some(c)) => {
                let cb = c.bounds();
                Some((b.0.max(cb.0), b.1.max(cb.1), b.2.min(cb.2), b.3.min(cb.3)))
            }
            (Some(b), None) => Some(b),
            (None, Some(c)) => Some(c.bounds()),
            (None, None) => None,
        },
        party_codes: r.party_codes.clone(),
        violation_types,
        statuses,
        channels,
        except: None,
    };
    let filtered = ask.words.is_empty()
        && ask.period == (None, None)
        && ask.boxed.is_none()
        && ask.party_codes.is_empty()
        && ask.violation_types.is_empty()
        && ask.statuses.is_empty()
        && ask.channels.is_empty();
    if filtered {
        v.add("query", "give words to find or at least one filter");
    }
    let filters = format!(
        "{:?}|{:?}",
        ask,
        circle.map(|c| (
            c.latitude.to_bits(),
            c.longitude.to_bits(),
            c.radius_km.to_bits()
        ))
    );
    let offset = if r.page_token.is_empty() {
        0
    } else {
        match decode_token(&r.page_token, &filters)
            .ok()
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        {
            Some(bytes) => usize::try_from(u64::from_be_bytes(bytes)).unwrap_or(usize::MAX),
            None => {
                v.add(
                    "page_token",
                    "is not a page token of this request with these same filters",
                );
                0
            }
        }
    };
    if !v.is_empty() {
        return Err(v);
    }
    Ok(SearchQuery {
        ask,
        circle,
        offset,
        limit,
        filters,
    })
}

/// A checked `ListSimilarAllegationsRequest`: the allegation and how many candidates at most.
pub fn similar(r: &pb::ListSimilarAllegationsRequest) -> Result<(Uuid, usize), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_allegation_id("allegation_id", &r.allegation_id));
    let limit = match r.max_results {
        0 => Some(10),
        n @ 1..=50 => usize::try_from(n).ok(),
        _ => {
            v.add("max_results", "must be between 1 and 50 (0 means 10)");
            None
        }
    };
    match (id, limit) {
        (Some(id), Some(limit)) if v.is_empty() => Ok((id, limit)),
        _ => Err(v),
    }
}
