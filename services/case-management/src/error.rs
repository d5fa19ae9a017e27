//! Everything that can go wrong in case management, and its one mapping to a gRPC status.

use docket_domain::case::{IllegalChargeMove, IllegalTransition};
use docket_domain::{UnknownCode, Violations};
use docket_platform::error;
use docket_platform::sealing::SealError;
use sea_orm::DbErr;
use tonic::Status;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("invalid request: {0}")]
    Invalid(Violations),
    #[error("case {0} not found")]
    CaseNotFound(Uuid),
    #[error("no case or allegation has the reference {0}")]
    ReferenceNotFound(String),
    #[error("person {person} is not in case {case}")]
    PersonNotFound { case: Uuid, person: Uuid },
    #[error("person {0} is not a victim with register details (`victim`) in any case")]
    NotNamedVictim(Uuid),
    #[error("charge {charge} is not in case {case}")]
    ChargeNotFound { case: Uuid, charge: Uuid },
    #[error("evidence {evidence} is not linked to case {case}; link it first")]
    EvidenceNotLinked { case: Uuid, evidence: Uuid },
    #[error("intake holds no evidence {0}")]
    EvidenceUnknown(Uuid),
    #[error("intake could not be asked what it holds: {0}")]
    IntakeUnavailable(Status),
    /// A delivery of an allegation intake does not hold.
    #[error("intake holds no allegation {0}; only allegations intake accepted open cases")]
    AllegationUnknown(Uuid),
    /// A delivery of an allegation intake has not accepted (or marked a duplicate).
    #[error(
        "allegation {reference} is {status} in intake, not accepted; only allegations intake \
         accepted (and duplicates of them) open cases"
    )]
    AllegationNotAccepted { reference: String, status: String },
    /// A delivery whose content is not what intake holds of the allegation.
    #[error(
        "the delivery of allegation {reference} differs from what intake holds in {fields}; \
         nothing was written"
    )]
    SnapshotMismatch { reference: String, fields: String },
    #[error(
        "case {0} changed since this etag was read; read the case again and retry with its etag"
    )]
    StaleEtag(Uuid),
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    #[error(transparent)]
    IllegalChargeMove(#[from] IllegalChargeMove),
    /// A rule that depends on stored state (a charge on a crime type the case lacks, say).
    #[error("{0}")]
    Precondition(String),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("stored data cannot be read: {0}")]
    Corrupt(#[from] UnknownCode),
    #[error("sealing: {0}")]
    Sealing(SealError),
    /// The search index could not answer.
    #[error(transparent)]
    Search(#[from] docket_search::SearchError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<Violations> for CaseError {
    fn from(violations: Violations) -> Self {
        CaseError::Invalid(violations)
    }
}

impl From<CaseError> for Status {
    fn from(error: CaseError) -> Self {
        match error {
            CaseError::Invalid(violations) => error::invalid_argument(&violations),
            CaseError::CaseNotFound(_)
            | CaseError::ReferenceNotFound(_)
            | CaseError::PersonNotFound { .. }
            | CaseError::ChargeNotFound { .. }
            | CaseError::EvidenceUnknown(_) => Status::not_found(error.to_string()),
            CaseError::AllegationUnknown(_) => {
                tracing::warn!(%error, "a delivery intake does not vouch for was refused");
                Status::not_found(error.to_string())
            }
            CaseError::AllegationNotAccepted { .. } | CaseError::SnapshotMismatch { .. } => {
                tracing::warn!(%error, "a delivery intake does not vouch for was refused");
                Status::failed_precondition(error.to_string())
            }
            CaseError::IntakeUnavailable(ref cause) => {
                tracing::warn!(%cause, "intake did not answer");
                Status::unavailable("intake could not be reached to check what it holds; try again")
            }
            CaseError::StaleEtag(_) => Status::aborted(error.to_string()),
            CaseError::EvidenceNotLinked { .. }
            | CaseError::NotNamedVictim(_)
            | CaseError::IllegalTransition(_)
            | CaseError::IllegalChargeMove(_)
            | CaseError::Precondition(_) => Status::failed_precondition(error.to_string()),
            CaseError::Database(ref db) if docket_platform::db::is_unavailable(db) => {
                error::unavailable(&error)
            }
            CaseError::Database(_) | CaseError::Corrupt(_) | CaseError::Sealing(_) => {
                error::internal(&error)
            }
            CaseError::Search(docket_search::SearchError::Unavailable) => {
                Status::unavailable(error.to_string())
            }
            CaseError::Search(docket_search::SearchError::Unexpected(ref cause)) => {
                error::internal(cause.as_ref())
            }
            CaseError::Unexpected(ref cause) => error::internal(cause.as_ref()),
        }
    }
}
