//! Requests into valid commands and queries: the one place where intake checks its input.

use chrono::{DateTime, Utc};
use docket_domain::Violations;
use docket_domain::allegation::{
    AllegationStatus, NewAllegation, RejectionReason, RequestId, ReviewerName,
};
use docket_domain::incident::ViolationType;
use docket_domain::party::{KnownParties, PartyCode};
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::{decode_enum, parse_new_allegation, parse_time};
use prost::Message;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::store::{AllegationQuery, TriageCommand};

/// A valid `SubmitAllegationRequest`.
#[derive(Debug)]
pub struct SubmitCommand {
    pub request_id: RequestId,
    pub fingerprint: String,
    pub allegation: NewAllegation,
}

pub fn submit(
    request: pb::SubmitAllegationRequest,
    parties: &KnownParties,
    now: DateTime<Utc>,
) -> Result<SubmitCommand, Violations> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", RequestId::parse(&request.request_id));
    let Some(mut message) = request.allegation else {
        v.add("allegation", "is required");
        return Err(v);
    };
    clear_output_only(&mut message);
    let fingerprint = hex::encode(Sha256::digest(message.encode_to_vec()));
    let allegation = match parse_new_allegation("allegation", message, now) {
        Ok(allegation) => v.nest(
            "allegation",
            allegation.check_parties(parties).map(|()| allegation),
        ),
        Err(violations) => {
            v.absorb("", violations);
            None
        }
    };
    match (request_id, allegation) {
        (Some(request_id), Some(allegation)) if v.is_empty() => Ok(SubmitCommand {
            request_id,
            fingerprint,
            allegation,
        }),
        _ => Err(v),
    }
}

/// Fields the service sets are ignored on submission, and so left out of the fingerprint.
fn clear_output_only(message: &mut pb::Allegation) {
    message.id.clear();
    message.reference.clear();
    message.status = 0;
    message.received_at = None;
    message.reviewed_by.clear();
    message.rejection_reason.clear();
    message.duplicate_of_id.clear();
    message.status_changed_at = None;
}

/// An allegation id in `field`.
pub fn parse_id(field: &str, value: &str) -> Result<Uuid, Violations> {
    if value.is_empty() {
        return Err(Violations::single(field, "is required"));
    }
    Uuid::parse_str(value).map_err(|_| Violations::single(field, "must be a UUID"))
}

pub fn list(request: pb::ListAllegationsRequest) -> Result<AllegationQuery, Violations> {
    let mut v = Violations::default();
    let page_size = match request.page_size {
        size if size < 0 => {
            v.add("page_size", "must not be negative");
            0
        }
        0 => AllegationQuery::DEFAULT_PAGE_SIZE,
        size => u64::try_from(size)
            .unwrap_or(AllegationQuery::MAX_PAGE_SIZE)
            .min(AllegationQuery::MAX_PAGE_SIZE),
    };
    let status =
        decode_enum::<pb::AllegationStatus, AllegationStatus>(&mut v, "status", request.status);
    let violation_type = decode_enum::<common::ViolationType, ViolationType>(
        &mut v,
        "violation_type",
        request.violation_type,
    );
    let party = match request.party_code.as_str() {
        "" => None,
        code => v.check("party_code", PartyCode::parse(code)),
    };
    let received_after = request
        .received_after
        .and_then(|t| v.check("received_after", parse_time(&t)));
    let received_before = request
        .received_before
        .and_then(|t| v.check("received_before", parse_time(&t)));
    if let (Some(after), Some(before)) = (received_after, received_before)
        && before <= after
    {
        v.add("received_before", "must be later than received_after");
    }
    let mut query = AllegationQuery {
        page_size,
        after: None,
        status,
        violation_type,
        party,
        received_after,
        received_before,
    };
    if !request.page_token.is_empty() {
        query.after = v.check("page_token", query.parse_page_token(&request.page_token));
    }
    v.into_result().map(|()| query)
}

pub fn start_review(request: pb::StartReviewRequest) -> Result<(Uuid, TriageCommand), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_id("id", &request.id));
    let reviewer = v.check("reviewer", ReviewerName::parse(request.reviewer));
    match (id, reviewer) {
        (Some(id), Some(reviewer)) => Ok((id, TriageCommand::StartReview(reviewer))),
        _ => Err(v),
    }
}

pub fn reject(request: pb::RejectAllegationRequest) -> Result<(Uuid, TriageCommand), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_id("id", &request.id));
    let reason = v.check("reason", RejectionReason::parse(request.reason));
    match (id, reason) {
        (Some(id), Some(reason)) => Ok((id, TriageCommand::Reject(reason))),
        _ => Err(v),
    }
}

pub fn mark_duplicate(
    request: pb::MarkDuplicateRequest,
) -> Result<(Uuid, TriageCommand), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_id("id", &request.id));
    let of = v.nest("", parse_id("duplicate_of_id", &request.duplicate_of_id));
    match (id, of) {
        (Some(id), Some(of)) if id == of => Err(Violations::single(
            "duplicate_of_id",
            "must differ from id: an allegation cannot duplicate itself",
        )),
        (Some(id), Some(of)) => Ok((id, TriageCommand::MarkDuplicate { of })),
        _ => Err(v),
    }
}
