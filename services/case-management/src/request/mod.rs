//! Requests into valid commands and queries: the one place where case management checks its
//! input. Each function reports every bad field at once, with the request's own field paths.

mod case;
mod parts;

pub use case::{changes, get, history, list, open, qualify, receive, transition, update};
pub use parts::{
    add_person, assessments, casualty_candidates, casualty_pair, file_charge, link_evidence,
    list_by_case, persons, record_assessment, remove_person, unlink_evidence, update_charge_status,
    update_person,
};

use docket_domain::Violations;
use docket_proto::parse_uuid;
use uuid::Uuid;

/// A required UUID in `field`, recorded in `v` when bad.
fn uuid(v: &mut Violations, field: &str, value: &str) -> Option<Uuid> {
    v.nest("", parse_uuid(field, value))
}

/// An etag in `field`: `None` when empty and optional.
fn etag(v: &mut Violations, field: &str, value: String, required: bool) -> Option<String> {
    if value.is_empty() {
        if required {
            v.add(field, "is required: send the etag of the case as last read");
        }
        return None;
    }
    if value.len() > 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        v.add(field, "is not an etag of a case");
        return None;
    }
    Some(value)
}
