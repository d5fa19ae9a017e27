//! Requests into valid commands and queries: the one place where case management checks its
//! input. Each function reports every bad field at once, with the request's own field paths.

mod case;
mod lists;
mod parts;
pub mod reference;
mod search;

pub use case::{changes, get, list, open, qualify, receive, transition, update};
pub use lists::{assessments, charges, evidence, history, persons};
pub use parts::{
    add_person, casualty_candidates, casualty_pair, file_charge, link_evidence, list_by_case,
    receive_evidence, record_assessment, remove_person, unlink_evidence, update_charge_status,
    update_person,
};
pub use search::search;

use docket_domain::Violations;
use docket_proto::parse_uuid;
use uuid::Uuid;

/// A required UUID in `field`, recorded in `v` when bad.
fn uuid(v: &mut Violations, field: &str, value: &str) -> Option<Uuid> {
    v.nest("", parse_uuid(field, value))
}

/// A required id in `field` of what `named` names; its reference, if sent, was already resolved
/// ([`reference::resolve`]).
fn id_of(v: &mut Violations, named: reference::Named, field: &str, value: &str) -> Option<Uuid> {
    if value.is_empty() {
        v.add(field, "is required");
        return None;
    }
    match Uuid::parse_str(value) {
        Ok(id) => Some(id),
        Err(_) => {
            v.add(field, reference::malformed(named));
            None
        }
    }
}

/// A required case id (or reference) in `field`.
fn case_id(v: &mut Violations, field: &str, value: &str) -> Option<Uuid> {
    id_of(v, reference::Named::Case, field, value)
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
