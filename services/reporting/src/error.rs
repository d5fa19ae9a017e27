//! Everything that can go wrong in reporting, and its one mapping to a gRPC status.

use docket_domain::Violations;
use docket_platform::error;
use sea_orm::DbErr;
use tonic::Status;

use crate::release::protect;

#[derive(Debug, thiserror::Error)]
pub enum ReportingError {
    #[error("invalid request: {0}")]
    Invalid(Violations),
    /// A caller who may see only published figures asked for internal ones.
    #[error("a public reporter may only ask for the public audience (AUDIENCE_PUBLIC)")]
    PublicOnly,
    #[error("no release {0}")]
    ReleaseNotFound(i64),
    #[error(transparent)]
    Unprotectable(#[from] protect::Unprotectable),
    #[error("release {0} was published meanwhile; try again")]
    Raced(i64),
    /// A release cannot be recomputed here as it was: what differs.
    #[error("cannot reproduce the release: {0}")]
    Irreproducible(String),
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<Violations> for ReportingError {
    fn from(violations: Violations) -> Self {
        ReportingError::Invalid(violations)
    }
}

impl From<ReportingError> for Status {
    fn from(e: ReportingError) -> Self {
        match e {
            ReportingError::Invalid(v) => error::invalid_argument(&v),
            ReportingError::PublicOnly => Status::permission_denied(e.to_string()),
            ReportingError::ReleaseNotFound(_) => Status::not_found(e.to_string()),
            ReportingError::Unprotectable(_) => Status::failed_precondition(format!(
                "{e}; the release was refused and nothing was published"
            )),
            ReportingError::Raced(_) => Status::aborted(e.to_string()),
            ReportingError::Irreproducible(_) => Status::failed_precondition(e.to_string()),
            ReportingError::Database(db) => error::database(&db),
            ReportingError::Unexpected(cause) => error::internal(cause.as_ref()),
        }
    }
}
