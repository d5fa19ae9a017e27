//! The two kinds of failure every service maps the same way: invalid input, which the client can
//! fix and is told about field by field, and internal errors, which are logged with their cause
//! and reach the client as a generic message.

use std::collections::HashMap;

use docket_domain::Violations;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `google.rpc.ErrorInfo` domain of every Docket error.
pub const ERROR_DOMAIN: &str = "docket";

/// `INVALID_ARGUMENT` with a `google.rpc.BadRequest` naming each bad field.
pub fn invalid_argument(violations: &Violations) -> Status {
    let mut details = ErrorDetails::new();
    for violation in violations.iter() {
        details.add_bad_request_violation(violation.field.clone(), violation.description.clone());
    }
    details.set_error_info("INVALID_ARGUMENT", ERROR_DOMAIN, HashMap::new());
    let message = match violations.iter().count() {
        1 => format!("invalid request: {violations}"),
        n => format!("invalid request: {n} fields are invalid: {violations}"),
    };
    Status::with_error_details(Code::InvalidArgument, message, details)
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
