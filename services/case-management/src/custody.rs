//! Telling intake, which keeps each item's chain of custody, that an item was linked to a case
//! or unlinked from one.
//!
//! The notice is written to this service's outbox in the transaction of the link or unlink, and
//! a dispatcher (one replica at a time, under a lease) sends it to intake's `RecordCaseCustody`
//! until intake answers. So a link that commits is always recorded in the chain, however long
//! intake is down, and a link that rolls back never is; the notice's id is the custody event's
//! id, so a notice sent twice is recorded once.

use chrono::{DateTime, Utc};
use docket_platform::outbox::{self, Delivery, Failure};
use docket_proto::docket::intake::v1 as intake;
use docket_proto::timestamp;
use prost::Message;
use sea_orm::{ConnectionTrait, DbErr};
use tonic::Code;
use uuid::Uuid;

use crate::intake::IntakeEvidence;

/// The outbox topic of custody notices to intake.
pub const TOPIC: &str = "intake.record_case_custody";

/// The lease of the outbox dispatcher: one replica delivers at a time.
pub const DISPATCH_LEASE: &str = "case-management-outbox-dispatcher";

/// A link or unlink, for the item's chain of custody.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    pub evidence_id: Uuid,
    pub case_id: Uuid,
    pub case_reference: &'a str,
    pub linked: bool,
    pub actor: &'a str,
    pub at: DateTime<Utc>,
    pub reason: Option<&'a str>,
}

/// Writes `notice` to the outbox in the transaction `conn` of the link or unlink.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, notice: Notice<'_>) -> Result<(), DbErr> {
    let request = intake::RecordCaseCustodyRequest {
        custody_id: Uuid::now_v7().to_string(),
        evidence_id: notice.evidence_id.to_string(),
        case_id: notice.case_id.to_string(),
        case_reference: notice.case_reference.to_owned(),
        action: if notice.linked {
            intake::CaseCustodyAction::Linked
        } else {
            intake::CaseCustodyAction::Unlinked
        }
        .into(),
        actor: notice.actor.to_owned(),
        occurred_time: Some(timestamp(notice.at)),
        reason: notice.reason.unwrap_or_default().to_owned(),
    };
    outbox::enqueue(conn, TOPIC, request.encode_to_vec()).await?;
    Ok(())
}

impl Delivery for IntakeEvidence {
    async fn deliver(&self, topic: &str, payload: &[u8]) -> Result<(), Failure> {
        if topic != TOPIC {
            return Err(Failure::Refused(format!(
                "case management's outbox has no topic {topic:?}"
            )));
        }
        let request = intake::RecordCaseCustodyRequest::decode(payload)
            .map_err(|e| Failure::Refused(format!("the stored request does not decode: {e}")))?;
        self.record_case_custody(request)
            .await
            .map_err(|status| failure(&status))
    }
}

/// Whether intake's answer can change by itself: a refusal of the request as it is will not, so
/// it ends as a dead letter; anything else (down, busy, a token being rotated) is tried again.
fn failure(status: &tonic::Status) -> Failure {
    let why = format!("{:?}: {}", status.code(), status.message());
    match status.code() {
        Code::FailedPrecondition
        | Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::OutOfRange
        | Code::Unimplemented => Failure::Refused(why),
        Code::Ok
        | Code::Cancelled
        | Code::Unknown
        | Code::DeadlineExceeded
        | Code::PermissionDenied
        | Code::ResourceExhausted
        | Code::Aborted
        | Code::Internal
        | Code::Unavailable
        | Code::DataLoss
        | Code::Unauthenticated => Failure::Retry(why),
    }
}
