//! Requests into valid commands and queries: the one place where intake checks its input.

use chrono::{DateTime, Utc};
use docket_domain::Violations;
use docket_domain::allegation::{
    AllegationStatus, NewAllegation, RejectionReason, RequestId, ReviewerName, SourceMessage,
};
use docket_domain::incident::ViolationType;
use docket_domain::party::{KnownParties, PartyCode};
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::{decode_enum, parse_new_allegation, parse_time};
use prost::Message;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::store::{AllegationQuery, MessageDigest, TriageCommand};

mod correction;
pub mod reference;
pub mod search;

pub use correction::{changes, reopen, update};

/// A valid `SubmitAllegationRequest`.
#[derive(Debug)]
pub struct SubmitCommand {
    pub request_id: RequestId,
    /// The SHA-256 of the message, sealed fields included: kept in memory only, and stored
    /// only keyed (see `store::fingerprint`).
    pub digest: MessageDigest,
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
    let digest = MessageDigest::new(Sha256::digest(message.encode_to_vec()).into());
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
            digest,
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
    message.etag.clear();
    message.joined_case_id.clear();
}

/// An allegation id in `field`.
pub fn parse_id(field: &str, value: &str) -> Result<Uuid, Violations> {
    if value.is_empty() {
        return Err(Violations::single(field, "is required"));
    }
    Uuid::parse_str(value).map_err(|_| Violations::single(field, "must be a UUID"))
}

/// An id in `field` of what `named` names, or its reference already resolved
/// ([`reference::resolve`]).
fn parse_named(named: reference::Named, field: &str, value: &str) -> Result<Uuid, Violations> {
    if value.is_empty() {
        return Err(Violations::single(field, "is required"));
    }
    Uuid::parse_str(value).map_err(|_| Violations::single(field, reference::malformed(named)))
}

/// An allegation id (or its resolved reference) in `field`.
pub fn parse_allegation_id(field: &str, value: &str) -> Result<Uuid, Violations> {
    parse_named(reference::Named::Allegation, field, value)
}

/// A case id (or its resolved reference) in `field`.
pub fn parse_case_id(field: &str, value: &str) -> Result<Uuid, Violations> {
    parse_named(reference::Named::Case, field, value)
}

pub fn list(request: pb::ListAllegationsRequest) -> Result<AllegationQuery, Violations> {
    let mut v = Violations::default();
    let page_size = docket_platform::paging::page_size(
        &mut v,
        request.page_size,
        AllegationQuery::DEFAULT_PAGE_SIZE,
    );
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

/// An optional message for the source in `field`.
fn source_message(v: &mut Violations, field: &str, value: String) -> Option<SourceMessage> {
    if value.trim().is_empty() {
        None
    } else {
        v.check(field, SourceMessage::parse(value))
    }
}

/// A review started by `reviewer`, the caller.
pub fn start_review(
    request: pb::StartReviewRequest,
    reviewer: &str,
) -> Result<(Uuid, TriageCommand), Violations> {
    let id = parse_allegation_id("id", &request.id)?;
    // A subject is a verified token's; one that is too long to record is the token's fault.
    let reviewer = ReviewerName::parse(reviewer).map_err(|reason| {
        Violations::single("authorization", format!("the token's subject {reason}"))
    })?;
    Ok((id, TriageCommand::StartReview(reviewer)))
}

pub fn accept(request: pb::AcceptAllegationRequest) -> Result<(Uuid, TriageCommand), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_allegation_id("id", &request.id));
    let message = source_message(&mut v, "message_for_source", request.message_for_source);
    let join_case = match request.join_case_id.as_str() {
        "" => None,
        raw => v.nest("", parse_case_id("join_case_id", raw)),
    };
    match id {
        Some(id) if v.is_empty() => Ok((id, TriageCommand::Accept { message, join_case })),
        _ => Err(v),
    }
}

pub fn reject(request: pb::RejectAllegationRequest) -> Result<(Uuid, TriageCommand), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_allegation_id("id", &request.id));
    let reason = v.check("reason", RejectionReason::parse(request.reason));
    let message = source_message(&mut v, "message_for_source", request.message_for_source);
    match (id, reason) {
        (Some(id), Some(reason)) if v.is_empty() => {
            Ok((id, TriageCommand::Reject { reason, message }))
        }
        _ => Err(v),
    }
}

pub fn mark_duplicate(
    request: pb::MarkDuplicateRequest,
) -> Result<(Uuid, TriageCommand), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_allegation_id("id", &request.id));
    let of = v.nest(
        "",
        parse_allegation_id("duplicate_of_id", &request.duplicate_of_id),
    );
    let message = source_message(&mut v, "message_for_source", request.message_for_source);
    match (id, of) {
        (Some(id), Some(of)) if id == of => Err(Violations::single(
            "duplicate_of_id",
            "must differ from id: an allegation cannot duplicate itself",
        )),
        (Some(id), Some(of)) if v.is_empty() => {
            Ok((id, TriageCommand::MarkDuplicate { of, message }))
        }
        _ => Err(v),
    }
}

/// A receipt as a source may type it: letters, digits and dashes, at most 64 characters.
pub fn receipt(request: &pb::CheckAllegationStatusRequest) -> Result<&str, Violations> {
    let receipt = request.receipt.trim();
    if receipt.is_empty() {
        return Err(Violations::single("receipt", "is required"));
    }
    if receipt.len() > 64
        || !receipt
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(Violations::single(
            "receipt",
            "is not a receipt: letters, digits and dashes",
        ));
    }
    Ok(receipt)
}

/// A page of dead letters: how many, and after which one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterPage {
    pub page_size: u64,
    pub after: Option<Uuid>,
}

/// The filters a dead-letter page token is bound to: none but the method.
pub const DEAD_LETTER_FILTERS: &str = "dead letters";

pub fn dead_letters(request: &pb::ListDeadLettersRequest) -> Result<DeadLetterPage, Violations> {
    let mut v = Violations::default();
    let page_size = docket_platform::paging::page_size(&mut v, request.page_size, 100);
    let mut after = None;
    if !request.page_token.is_empty() {
        match docket_platform::paging::decode_token(&request.page_token, DEAD_LETTER_FILTERS)
            .ok()
            .and_then(|position| Uuid::from_slice(&position).ok())
        {
            Some(id) => after = Some(id),
            None => v.add("page_token", "is not a page token of ListDeadLetters"),
        }
    }
    v.into_result()
        .map(|()| DeadLetterPage { page_size, after })
}
