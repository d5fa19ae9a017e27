//! The checks every search request shares, whichever service it is made to.

use docket_domain::Violations;
use docket_platform::paging::{decode_token, encode_token};
use docket_proto::docket::intake::v1::{GeoBox, GeoCircle};
use docket_proto::{decode_enum, parse_time};

use crate::Ask;
use crate::geo::Circle;

/// The longest query accepted, in characters.
const MAX_QUERY: usize = 500;
/// The most hits one page holds.
const MAX_PAGE: i32 = 100;
/// The widest radius accepted, in kilometres.
const MAX_RADIUS_KM: f64 = 2_000.0;
/// The most values of one filter.
pub const MAX_VALUES: usize = 50;

/// A search request's fields as sent, the enumerations aside (statuses, channels: each service
/// has its own, checked with [`enums`]).
#[derive(Debug, Clone, Copy)]
pub struct Sent<'a> {
    pub query: &'a str,
    pub incident_from_time: Option<&'a prost_types::Timestamp>,
    pub incident_to_time: Option<&'a prost_types::Timestamp>,
    pub within_radius: Option<&'a GeoCircle>,
    pub within_box: Option<&'a GeoBox>,
    pub party_codes: &'a [String],
    pub page_size: i32,
    pub page_token: &'a str,
}

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

    /// The `next_page_token` of an answer of `returned` hits, of `total` matches.
    pub fn next_page_token(&self, returned: usize, total: crate::Total) -> String {
        // Past the count's cap, a full page says there may be more.
        let more = if total.more {
            returned == self.limit
        } else {
            self.offset + returned < usize::try_from(total.count).unwrap_or(usize::MAX)
        };
        if more && returned > 0 {
            self.next_token(returned)
        } else {
            String::new()
        }
    }
}

/// The values of an enumeration filter `field`, each checked: known, and not unspecified.
pub fn enums<W, D>(v: &mut Violations, field: &str, raw: &[i32]) -> Vec<i32>
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

/// Checks `sent` with the filters `ask` already holds (violation types, statuses, channels), and
/// adds its violations to `v`: the query when there are none.
pub fn check(v: &mut Violations, sent: Sent<'_>, mut ask: Ask) -> Option<SearchQuery> {
    let words = sent.query.trim().to_owned();
    if words.chars().count() > MAX_QUERY {
        v.add("query", format!("at most {MAX_QUERY} characters"));
    }
    if words
        .chars()
        .any(|c| c.is_control() && c != '\t' && c != '\n' && c != '\r')
    {
        v.add("query", "must not hold control characters");
    }
    let mut time = |field: &str, t: Option<&prost_types::Timestamp>| {
        t.and_then(|t| match parse_time(t) {
            Ok(time) => Some(time.timestamp()),
            Err(why) => {
                v.add(field, why);
                None
            }
        })
    };
    let from = time("incident_from_time", sent.incident_from_time);
    let to = time("incident_to_time", sent.incident_to_time);
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        v.add("incident_to_time", "must not be before incident_from_time");
    }
    let circle = sent.within_radius.map(|c| {
        let (latitude, longitude, radius_km) = (c.latitude, c.longitude, c.radius_km);
        coordinate(v, "within_radius.latitude", latitude, 90.0);
        coordinate(v, "within_radius.longitude", longitude, 180.0);
        if !(radius_km > 0.0 && radius_km <= MAX_RADIUS_KM) {
            v.add(
                "within_radius.radius_km",
                format!("must be more than 0 and at most {MAX_RADIUS_KM}"),
            );
        }
        Circle {
            latitude,
            longitude,
            radius_km,
        }
    });
    let boxed = sent
        .within_box
        .map(|b| {
            (
                b.min_latitude,
                b.min_longitude,
                b.max_latitude,
                b.max_longitude,
            )
        })
        .inspect(|&(min_lat, min_lon, max_lat, max_lon)| {
            coordinate(v, "within_box.min_latitude", min_lat, 90.0);
            coordinate(v, "within_box.max_latitude", max_lat, 90.0);
            coordinate(v, "within_box.min_longitude", min_lon, 180.0);
            coordinate(v, "within_box.max_longitude", max_lon, 180.0);
            if max_lat < min_lat {
                v.add("within_box.max_latitude", "must not be below min_latitude");
            }
            if max_lon < min_lon {
                v.add(
                    "within_box.max_longitude",
                    "must not be below min_longitude",
                );
            }
        });
    if sent.party_codes.len() > MAX_VALUES {
        v.add("party_codes", format!("at most {MAX_VALUES} values"));
    }
    for (i, code) in sent.party_codes.iter().enumerate() {
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
    let limit = match sent.page_size {
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
    ask.words = words;
    ask.period = (from, to);
    // A circle is searched as its box, then kept to the circle.
    ask.boxed = match (boxed, circle) {
        (Some(b), Some(c)) => {
            let cb = c.bounds();
            Some((b.0.max(cb.0), b.1.max(cb.1), b.2.min(cb.2), b.3.min(cb.3)))
        }
        (Some(b), None) => Some(b),
        (None, Some(c)) => Some(c.bounds()),
        (None, None) => None,
    };
    ask.party_codes = sent.party_codes.to_vec();
    let unfiltered = ask.words.is_empty()
        && ask.period == (None, None)
        && ask.boxed.is_none()
        && ask.party_codes.is_empty()
        && ask.violation_types.is_empty()
        && ask.statuses.is_empty()
        && ask.channels.is_empty();
    if unfiltered {
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
    let offset = if sent.page_token.is_empty() {
        0
    } else {
        match decode_token(sent.page_token, &filters)
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
    v.is_empty().then_some(SearchQuery {
        ask,
        circle,
        offset,
        limit,
        filters,
    })
}
