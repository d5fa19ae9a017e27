//! Etags for optimistic concurrency: a record's version, made opaque. A change carries the etag
//! of the version its caller read; a stale one is refused (`ABORTED`) instead of overwriting a
//! change the caller never saw.

use docket_domain::Violations;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The etag of version `version` of record `id`: opaque to clients, so that nobody builds on its
/// form, and different for every record so that one record's etag never passes for another's.
pub fn of(id: Uuid, version: i64) -> String {
    let digest = Sha256::digest(format!("{id}:{version}").as_bytes());
    hex::encode(&digest[..8])
}

/// An etag sent in `field`: `None` when empty and optional (recorded in `v` when required), and
/// a violation when it cannot be an etag at all.
pub fn parse(v: &mut Violations, field: &str, value: String, required: bool) -> Option<String> {
    if value.is_empty() {
        if required {
            v.add(
                field,
                "is required: send the etag of the record as last read",
            );
        }
        return None;
    }
    if value.len() > 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        v.add(field, "is not an etag");
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_differ_by_version_and_by_record() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_ne!(of(a, 1), of(a, 2));
        assert_ne!(of(a, 1), of(b, 1));
        assert_eq!(of(a, 1), of(a, 1));
    }

    #[test]
    fn only_hex_can_be_an_etag() {
        let mut v = Violations::default();
        assert_eq!(parse(&mut v, "etag", String::new(), false), None);
        assert!(v.is_empty());
        assert_eq!(parse(&mut v, "etag", "not an etag".into(), false), None);
        assert_eq!(parse(&mut v, "other", String::new(), true), None);
        assert_eq!(v.iter().count(), 2);
        assert_eq!(
            parse(&mut v, "etag", "0a1b".into(), true).as_deref(),
            Some("0a1b")
        );
    }
}
