//! The two kinds of failure every service maps the same way: invalid input, which the client can
//! fix and is told about field by field, and internal errors, which are logged with their cause
//! and reach the client as a generic message.

use std::collections::HashMap;

use docket_domain::Violations;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `google.rpc.ErrorInfo` domain of every Docket error.
pub const ERROR_DOMAIN: &str = "docket";

/// Field violations listed at most in one answer: gRPC clients refuse status details larger
/// than their header limit (8 to 16 KiB), and a client that cannot read the list learns nothing.
pub const MAX_LISTED_VIOLATIONS: usize = 50;
/// Field violations spelled out in the message at most (the message travels as a header too).
const MAX_VIOLATIONS_IN_MESSAGE: usize = 5;

/// `INVALID_ARGUMENT` with a `google.rpc.BadRequest` naming each bad field — the first
/// [`MAX_LISTED_VIOLATIONS`], then one more entry (field `…`) saying how many were left out.
pub fn invalid_argument(violations: &Violations) -> Status {
    let total = violations.iter().count();
    let mut details = ErrorDetails::new();
    for violation in violations.iter().take(MAX_LISTED_VIOLATIONS) {
        details.add_bad_request_violation(violation.field.clone(), violation.description.clone());
    }
    if let Some(left_out) = total.checked_sub(MAX_LISTED_VIOLATIONS).filter(|n| *n > 0) {
        details.add_bad_request_violation(
            "…",
            format!(
                "and {left_out} more invalid fields, not listed; fix these and send again to \
                 see them"
            ),
        );
    }
    details.set_error_info("INVALID_ARGUMENT", ERROR_DOMAIN, HashMap::new());
    let message = match total {
        1 => format!("invalid request: {violations}"),
        n if n <= MAX_VIOLATIONS_IN_MESSAGE => {
            format!("invalid request: {n} fields are invalid: {violations}")
        }
        n => {
            let first: Vec<String> = violations
                .iter()
                .take(MAX_VIOLATIONS_IN_MESSAGE)
                .map(|v| format!("{}: {}", v.field, v.description))
                .collect();
            let listed = n.min(MAX_LISTED_VIOLATIONS);
            format!(
                "invalid request: {n} fields are invalid ({listed} listed in the details): {}; …",
                first.join("; ")
            )
        }
    };
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// `RESOURCE_EXHAUSTED` with a `google.rpc.RetryInfo` saying when the client may try again
/// (rounded up to the millisecond, so that it never says "now" too early).
pub fn retry_later(message: &str, retry_after: std::time::Duration) -> Status {
    let millis = retry_after.as_nanos().div_ceil(1_000_000);
    let delay = std::time::Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX));
    let mut details = ErrorDetails::with_retry_info(Some(delay));
    details.set_error_info("RATE_LIMITED", ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(Code::ResourceExhausted, message, details)
}

/// `INTERNAL` with nothing of the cause, which is logged with its whole chain.
pub fn internal(error: &(dyn std::error::Error + 'static)) -> Status {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(error = %chain, "internal error");
    Status::internal("internal error; the service logged the cause")
}

/// `UNAVAILABLE` for a database that cannot be reached; the client may retry.
pub fn unavailable(error: &(dyn std::error::Error + 'static)) -> Status {
    tracing::warn!(%error, "dependency unavailable");
    Status::unavailable("the service's database is unavailable; try again")
}

/// A database error as the client sees it: `UNAVAILABLE` when the database could not be reached
/// (the call changed nothing and may be retried), otherwise `INTERNAL`.
pub fn database(error: &sea_orm::DbErr) -> Status {
    if crate::db::is_unavailable(error) {
        unavailable(error)
    } else {
        internal(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_of_violations_is_cut_and_says_how_many_were_left_out() {
        let mut violations = Violations::default();
        for n in 0..300 {
            violations.add(format!("source_urls[{n}]"), "must be an http or https URL");
        }
        let status = invalid_argument(&violations);
        let listed = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(listed.len(), MAX_LISTED_VIOLATIONS + 1);
        assert_eq!(listed[MAX_LISTED_VIOLATIONS].field, "…");
        assert!(
            listed[MAX_LISTED_VIOLATIONS]
                .description
                .contains("250 more")
        );
        assert!(
            status
                .message()
                .starts_with("invalid request: 300 fields are invalid")
        );
        assert!(status.message().len() < 1_000, "{}", status.message());

        let few = invalid_argument(&Violations::single("narrative", "is required"));
        assert_eq!(
            few.get_details_bad_request()
                .unwrap()
                .field_violations
                .len(),
            1
        );
    }
}
