//! AIP-132 page tokens: opaque to the client, bound to the filters of the request that made
//! them, so that a token reused with other filters is refused instead of silently skipping rows.

use sha2::{Digest, Sha256};

const DIGEST_BYTES: usize = 8;

/// The most items any page holds.
pub const MAX_PAGE_SIZE: u64 = 1_000;

/// The page size a request asks for (AIP-158): zero means `default`, sizes above
/// [`MAX_PAGE_SIZE`] are capped, and a negative size is recorded as a violation of `page_size`.
pub fn page_size(v: &mut docket_domain::Violations, requested: i32, default: u64) -> u64 {
    match u64::try_from(requested) {
        Err(_) => {
            v.add("page_size", "must not be negative");
            0
        }
        Ok(0) => default,
        Ok(size) => size.min(MAX_PAGE_SIZE),
    }
}

/// The token that resumes after `position` (the sort key of the last item returned) for a request
/// whose filters are described by `filters`.
pub fn encode_token(position: &[u8], filters: &str) -> String {
    let mut bytes = position.to_vec();
    bytes.extend_from_slice(&digest(filters));
    hex::encode(bytes)
}

/// The position a token resumes after, if it was made for these same `filters`.
pub fn decode_token(token: &str, filters: &str) -> Result<Vec<u8>, String> {
    const REFUSED: &str = "is not a page token of this request with these same filters";
    let bytes = hex::decode(token).map_err(|_| REFUSED.to_owned())?;
    let split = bytes
        .len()
        .checked_sub(DIGEST_BYTES)
        .ok_or_else(|| REFUSED.to_owned())?;
    let (position, digest_part) = bytes.split_at(split);
    if digest_part == digest(filters) {
        Ok(position.to_vec())
    } else {
        Err(REFUSED.to_owned())
    }
}

/// One page of a list read in a fixed order: how many items, and the sort key (position) of the
/// last item of the previous page. For lists whose requests carry only `page_size`,
/// `page_token` and filters: [`Page::parse`] reads both fields, [`Page::finish`] cuts the rows
/// and makes the next token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// How many items the page holds at most.
    pub size: u64,
    /// The position of the last item of the previous page; `None` for the first page.
    pub after: Option<Vec<u8>>,
    filters: String,
}

impl Page {
    /// The page `page_size` and `page_token` ask for, in a list whose filters are described by
    /// `filters` (name the list too, so that a token of another list is refused). Violations are
    /// recorded under `page_size` and `page_token`.
    pub fn parse(
        v: &mut docket_domain::Violations,
        requested_size: i32,
        token: &str,
        default: u64,
        filters: String,
    ) -> Self {
        let size = page_size(v, requested_size, default);
        let after = match token {
            "" => None,
            token => v.check("page_token", decode_token(token, &filters)),
        };
        Self {
            size,
            after,
            filters,
        }
    }

    /// A page of `size` items from the start of a list.
    pub fn first(size: u64) -> Self {
        Self {
            size,
            after: None,
            filters: String::new(),
        }
    }

    /// How many rows to fetch: one more than the page holds tells whether another follows.
    pub fn limit(&self) -> u64 {
        self.size.saturating_add(1)
    }

    /// Cuts `rows` (fetched with [`Page::limit`]) to the page and answers the token of the next
    /// page, made from the last row's position; empty on the last page.
    pub fn finish<T>(&self, rows: &mut Vec<T>, position: impl Fn(&T) -> Vec<u8>) -> String {
        let more = rows.len() as u64 > self.size;
        rows.truncate(usize::try_from(self.size).unwrap_or(usize::MAX));
        match rows.last() {
            Some(last) if more => encode_token(&position(last), &self.filters),
            _ => String::new(),
        }
    }
}

/// A position of a row sorted by a time (microseconds) and then a UUID: 24 bytes.
pub fn time_and_id(micros: i64, id: &uuid::Uuid) -> Vec<u8> {
    let mut bytes = micros.to_be_bytes().to_vec();
    bytes.extend_from_slice(id.as_bytes());
    bytes
}

/// The time (microseconds) and UUID of a position made by [`time_and_id`].
pub fn split_time_and_id(position: &[u8]) -> Option<(i64, uuid::Uuid)> {
    let (micros, id) = position.split_at_checked(8)?;
    Some((
        i64::from_be_bytes(micros.try_into().ok()?),
        uuid::Uuid::from_slice(id).ok()?,
    ))
}

fn digest(filters: &str) -> [u8; DIGEST_BYTES] {
    let hash = Sha256::digest(filters.as_bytes());
    let mut out = [0; DIGEST_BYTES];
    out.copy_from_slice(&hash[..DIGEST_BYTES]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_cap_and_refuse_negatives() {
        let mut v = docket_domain::Violations::default();
        assert_eq!(page_size(&mut v, 0, 50), 50);
        assert_eq!(page_size(&mut v, 7, 50), 7);
        assert_eq!(page_size(&mut v, 5_000, 50), MAX_PAGE_SIZE);
        assert!(v.is_empty());
        page_size(&mut v, -1, 50);
        assert!(!v.is_empty());
    }

    #[test]
    fn a_page_cuts_its_rows_and_resumes_after_the_last() {
        let mut v = docket_domain::Violations::default();
        let page = Page::parse(&mut v, 2, "", 50, "list|x".into());
        let mut rows = vec![1u8, 2, 3];
        let token = page.finish(&mut rows, |r| vec![*r]);
        assert_eq!(rows, vec![1, 2]);
        let next = Page::parse(&mut v, 2, &token, 50, "list|x".into());
        assert_eq!(next.after, Some(vec![2]));
        let mut last = vec![3u8];
        assert_eq!(next.finish(&mut last, |r| vec![*r]), "");
        assert!(v.is_empty());
        Page::parse(&mut v, 2, &token, 50, "list|y".into());
        assert!(!v.is_empty());
    }

    #[test]
    fn a_token_resumes_only_under_its_own_filters() {
        let token = encode_token(&[1, 2, 3], "status=received");
        assert_eq!(decode_token(&token, "status=received"), Ok(vec![1, 2, 3]));
        assert!(decode_token(&token, "status=accepted").is_err());
        assert!(decode_token("zz", "").is_err());
        assert!(decode_token("00", "").is_err());
    }
}
