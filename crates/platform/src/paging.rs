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
    fn a_token_resumes_only_under_its_own_filters() {
        let token = encode_token(&[1, 2, 3], "status=received");
        assert_eq!(decode_token(&token, "status=received"), Ok(vec![1, 2, 3]));
        assert!(decode_token(&token, "status=accepted").is_err());
        assert!(decode_token("zz", "").is_err());
        assert!(decode_token("00", "").is_err());
    }
}
