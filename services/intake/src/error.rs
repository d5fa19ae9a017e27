//! Everything that can go wrong in intake, and its one mapping to a gRPC status.

use docket_domain::allegation::IllegalTriage;
use docket_domain::{UnknownCode, Violations};
use docket_platform::error;
use docket_platform::sealing::SealError;
use sea_orm::DbErr;
use tonic::Status;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("invalid request: {0}")]
    Invalid(Violations),
    #[error("allegation {0} not found")]
    AllegationNotFound(Uuid),
    #[error("no allegation or case has the reference {0}")]
    ReferenceNotFound(String),
    #[error("evidence {0} not found")]
    EvidenceNotFound(Uuid),
    #[error("no evidence holds content with SHA-256 {0}")]
    ContentNotFound(String),
    #[error("the upload stream broke before it ended ({0}); nothing was kept")]
    UploadBroken(Status),
    #[error("blob store: {0}")]
    Blob(object_store::Error),
    #[error("no upload session {0} of yours is open (unknown, expired or completed long ago)")]
    UploadNotFound(Uuid),
    #[error("upload session {id} holds {expected} bytes: write at offset {expected}, not {offset}")]
    UploadOffset {
        id: Uuid,
        expected: u64,
        offset: u64,
    },
    #[error("upload session {0} is being written by another stream; try again when it ends")]
    UploadBusy(Uuid),
    #[error("upload session {0} is complete: it takes no more bytes")]
    UploadComplete(Uuid),
    #[error("{0} upload sessions are open, the most allowed; finish or abandon one first")]
    TooManyUploads(usize),
    #[error("the partial file of an upload session: {0}")]
    UploadFile(std::io::Error),
    #[error("the range asked ends at byte {end}, past the end of the file ({size} bytes)")]
    RangeOutOfBounds { end: u64, size: u64 },
    #[error("the stored file {sha256} is missing or unreadable")]
    BlobLost { sha256: String },
    #[error(transparent)]
    IllegalTriage(#[from] IllegalTriage),
    #[error(
        "allegation {target} is itself a duplicate of {original}; mark it a duplicate of \
         {original} instead"
    )]
    DuplicateOfDuplicate { target: Uuid, original: Uuid },
    /// Only an accepted allegation has a case for its duplicates to join.
    #[error(
        "allegation {target} is {status}, not accepted: only a duplicate of an accepted \
         allegation can join its case; accept or reject it first"
    )]
    DuplicateOfUnaccepted { target: Uuid, status: &'static str },
    #[error("outbox message {0} is not a dead letter")]
    DeadLetterNotFound(Uuid),
    #[error(
        "allegation {0} changed since this etag was read; read it again and retry with its etag"
    )]
    StaleEtag(Uuid),
    #[error("case management holds no case {0}")]
    CaseNotFound(Uuid),
    #[error(
        "no signing key is configured (`reporting.release.signing_key`): custody reports cannot \
         be signed"
    )]
    NoSigningKey,
    /// The case named to join cannot take an allegation: it is closed (the message says how).
    #[error("{0}")]
    CaseClosed(String),
    #[error("case management could not be asked about the case: {0}")]
    CaseManagementUnavailable(Status),
    /// Wrong receipts came from this client too fast; it may ask again after `retry_after`.
    #[error("too many wrong receipts from this address; try again in {retry_after:?}")]
    TooManyGuesses { retry_after: std::time::Duration },
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    /// The database could not be reached for a call that was waiting on others (a batch of
    /// submissions): the client may try again.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
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

impl From<Violations> for IntakeError {
    fn from(violations: Violations) -> Self {
        IntakeError::Invalid(violations)
    }
}

impl From<IntakeError> for Status {
    fn from(error: IntakeError) -> Self {
        match error {
            IntakeError::Invalid(violations) => error::invalid_argument(&violations),
            IntakeError::AllegationNotFound(_)
            | IntakeError::ReferenceNotFound(_)
            | IntakeError::EvidenceNotFound(_)
            | IntakeError::ContentNotFound(_)
            | IntakeError::DeadLetterNotFound(_)
            | IntakeError::CaseNotFound(_) => Status::not_found(error.to_string()),
            IntakeError::StaleEtag(_) | IntakeError::UploadBusy(_) => {
                Status::aborted(error.to_string())
            }
            IntakeError::UploadNotFound(_) => Status::not_found(error.to_string()),
            IntakeError::UploadOffset { expected, .. } => {
                let mut details = tonic_types::ErrorDetails::new();
                details.set_error_info(
                    "UPLOAD_OFFSET_MISMATCH",
                    error::ERROR_DOMAIN,
                    std::collections::HashMap::from([(
                        "expected_offset".to_owned(),
                        expected.to_string(),
                    )]),
                );
                <Status as tonic_types::StatusExt>::with_error_details(
                    tonic::Code::FailedPrecondition,
                    error.to_string(),
                    details,
                )
            }
            IntakeError::UploadComplete(_) => Status::failed_precondition(error.to_string()),
            IntakeError::TooManyUploads(_) => Status::resource_exhausted(error.to_string()),
            IntakeError::RangeOutOfBounds { .. } => Status::out_of_range(error.to_string()),
            IntakeError::CaseManagementUnavailable(ref cause) => {
                tracing::warn!(%cause, "case management did not answer");
                Status::unavailable(
                    "case management could not be reached to check the case; try again",
                )
            }
            // A message of the stream that is not well-formed protobuf: the caller's fault.
            IntakeError::UploadBroken(ref cause)
                if docket_platform::grpc::is_malformed_request(cause) =>
            {
                docket_platform::grpc::malformed_request(cause)
            }
            IntakeError::UploadBroken(ref cause) => {
                tracing::info!(%cause, "an upload broke off");
                // An upload left idle is ended by the host with DEADLINE_EXCEEDED: say so.
                if cause.code() == tonic::Code::DeadlineExceeded {
                    Status::deadline_exceeded(error.to_string())
                } else {
                    Status::cancelled(error.to_string())
                }
            }
            IntakeError::BlobLost { .. } => {
                tracing::error!(%error, "evidence lost");
                Status::data_loss(error.to_string())
            }
            IntakeError::IllegalTriage(_)
            | IntakeError::DuplicateOfDuplicate { .. }
            | IntakeError::DuplicateOfUnaccepted { .. }
            | IntakeError::CaseClosed(_)
            | IntakeError::NoSigningKey => Status::failed_precondition(error.to_string()),
            IntakeError::TooManyGuesses { retry_after } => error::retry_later(
                "too many wrong receipts from this address; try again later",
                retry_after,
            ),
            IntakeError::Database(ref db) if docket_platform::db::is_unavailable(db) => {
                error::unavailable(&error)
            }
            IntakeError::Unavailable(_) => error::unavailable(&error),
            IntakeError::Database(_)
            | IntakeError::Corrupt(_)
            | IntakeError::Sealing(_)
            | IntakeError::Blob(_)
            | IntakeError::UploadFile(_) => error::internal(&error),
            IntakeError::Search(docket_search::SearchError::Unavailable) => {
                Status::unavailable(error.to_string())
            }
            IntakeError::Search(docket_search::SearchError::Unexpected(ref cause)) => {
                error::internal(cause.as_ref())
            }
            IntakeError::Unexpected(ref cause) => error::internal(cause.as_ref()),
        }
    }
}
