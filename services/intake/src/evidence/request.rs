//! Evidence requests into checked values.

use chrono::{DateTime, Utc};
use docket_domain::Violations;
use docket_domain::case::Verdict;
use docket_domain::content::{Confidence, ContentJudgement, ContentJudgementInput, ContentMethod};
use docket_domain::evidence::{
    CollectionMethod, CustodyNote, EvidenceMetadata, EvidenceMetadataInput, PersonOrOffice,
    Sha256Hex,
};
use docket_proto::docket::intake::v1 as pb;
use docket_proto::{decode_enum, parse_time};
use uuid::Uuid;

use super::download::ByteRange;
use crate::request::{parse_allegation_id, parse_case_id, parse_id};

/// What an uploaded file belongs to: an allegation, or a case it is registered to directly.
/// Exactly one, by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Allegation(Uuid),
    Case(Uuid),
}

impl Owner {
    pub fn allegation(self) -> Option<Uuid> {
        match self {
            Owner::Allegation(id) => Some(id),
            Owner::Case(_) => None,
        }
    }

    pub fn case(self) -> Option<Uuid> {
        match self {
            Owner::Case(id) => Some(id),
            Owner::Allegation(_) => None,
        }
    }
}

/// A checked first message of an upload.
#[derive(Debug, Clone)]
pub struct UploadHeader {
    pub owner: Owner,
    /// The reference of the case of an [`Owner::Case`], as case management gave it when asked
    /// whether the case takes evidence (`EvidenceDesk::check_references`); `None` until then.
    pub case_reference: Option<String>,
    pub derived_from: Option<Uuid>,
    pub declared_size: Option<u64>,
    pub metadata: EvidenceMetadata,
}

/// Refuses metadata naming both an allegation and a case, before either is looked up (a
/// reference would otherwise be asked of case management for a request refused anyway).
pub fn one_owner_at_most(message: &pb::EvidenceMetadata) -> Result<(), Violations> {
    if !message.allegation_id.trim().is_empty() && !message.case_id.trim().is_empty() {
        return Err(Violations::single("metadata.case_id", BOTH_OWNERS));
    }
    Ok(())
}

const BOTH_OWNERS: &str = "give the allegation the file belongs to (allegation_id) or the case it \
     is registered to (case_id), not both";

/// The allegation or the case of `message`, exactly one; violations under `metadata`.
fn owner(v: &mut Violations, message: &pb::EvidenceMetadata) -> Option<Owner> {
    match (message.allegation_id.as_str(), message.case_id.as_str()) {
        ("", "") => {
            v.add(
                "metadata.allegation_id",
                "is required: give the allegation the file belongs to, or the case it is \
                 registered to directly (case_id)",
            );
            None
        }
        (allegation, "") => v
            .nest("metadata", parse_allegation_id("allegation_id", allegation))
            .map(Owner::Allegation),
        ("", case) => v
            .nest("metadata", parse_case_id("case_id", case))
            .map(Owner::Case),
        (_, _) => {
            v.add("metadata.case_id", BOTH_OWNERS);
            None
        }
    }
}

/// The metadata message, with paths under `metadata`.
pub fn upload_header(
    message: pb::EvidenceMetadata,
    now: DateTime<Utc>,
) -> Result<UploadHeader, Violations> {
    let mut v = Violations::default();
    let owner = owner(&mut v, &message);
    let derived_from = match message.derived_from_evidence_id.as_str() {
        "" => None,
        id => v.nest("metadata", parse_id("derived_from_evidence_id", id)),
    };
    let declared_size = match message.declared_size_bytes {
        0 => None,
        size => match u64::try_from(size) {
            Ok(size) => Some(size),
            Err(_) => {
                v.add("metadata.declared_size_bytes", "must not be negative");
                None
            }
        },
    };
    let mut wire = Violations::default();
    let input = EvidenceMetadataInput {
        file_name: message.file_name,
        media_type: message.media_type,
        declared_sha256: message.declared_sha256,
        source_url: message.source_url,
        captured_time: message
            .captured_time
            .and_then(|t| wire.check("captured_time", parse_time(&t))),
        collected_time: message
            .collected_time
            .and_then(|t| wire.check("collected_time", parse_time(&t))),
        collected_by: message.collected_by,
        collection_method: decode_enum::<pb::CollectionMethod, CollectionMethod>(
            &mut wire,
            "collection_method",
            message.collection_method,
        ),
    };
    let metadata = match EvidenceMetadata::parse(input, now) {
        Ok(metadata) => Some(metadata),
        Err(domain) => {
            wire.absorb("", domain);
            None
        }
    };
    v.absorb("metadata", wire);
    match (owner, metadata) {
        (Some(owner), Some(metadata)) if v.is_empty() => Ok(UploadHeader {
            owner,
            case_reference: None,
            derived_from,
            declared_size,
            metadata,
        }),
        _ => Err(v),
    }
}

/// A checked `ListEvidence` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceQuery {
    pub allegation_id: Option<Uuid>,
    /// Only records registered directly to this case.
    pub case_id: Option<Uuid>,
    pub sha256: Option<Sha256Hex>,
    pub page_size: u64,
    pub after: Option<Uuid>,
}

impl EvidenceQuery {
    pub fn filters(&self) -> String {
        // Without a case, the same text as before the case filter: tokens handed out then
        // still read.
        match self.case_id {
            None => format!(
                "{:?}|{:?}",
                self.allegation_id,
                self.sha256.as_ref().map(Sha256Hex::as_str)
            ),
            Some(case) => format!(
                "{:?}|{:?}|case {case}",
                self.allegation_id,
                self.sha256.as_ref().map(Sha256Hex::as_str)
            ),
        }
    }
}

pub fn list(request: pb::ListEvidenceRequest) -> Result<EvidenceQuery, Violations> {
    let mut v = Violations::default();
    let allegation_id = match request.allegation_id.as_str() {
        "" => None,
        id => v.nest("", parse_allegation_id("allegation_id", id)),
    };
    let case_id = match request.case_id.as_str() {
        "" => None,
        id => v.nest("", parse_case_id("case_id", id)),
    };
    let sha256 = match request.sha256.as_str() {
        "" => None,
        digest => v.check("sha256", Sha256Hex::parse(digest)),
    };
    if request.allegation_id.is_empty() && request.case_id.is_empty() && request.sha256.is_empty() {
        v.add(
            "allegation_id",
            "give an allegation id, a case id or a sha256 (or several)",
        );
    }
    let page_size = docket_platform::paging::page_size(&mut v, request.page_size, 100);
    let mut query = EvidenceQuery {
        allegation_id,
        case_id,
        sha256,
        page_size,
        after: None,
    };
    if !request.page_token.is_empty() {
        let position = v.check(
            "page_token",
            docket_platform::paging::decode_token(&request.page_token, &query.filters()),
        );
        if let Some(position) = position {
            match Uuid::from_slice(&position) {
                Ok(after) => query.after = Some(after),
                Err(_) => v.add("page_token", "is not a page token of ListEvidence"),
            }
        }
    }
    v.into_result().map(|()| query)
}

/// A checked `RecordTransfer` request.
pub fn transfer(
    request: pb::RecordTransferRequest,
) -> Result<(Uuid, PersonOrOffice, Option<CustodyNote>), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_id("evidence_id", &request.evidence_id));
    let recipient = v.check("recipient", PersonOrOffice::parse(request.recipient));
    let note = if request.note.trim().is_empty() {
        None
    } else {
        v.check("note", CustodyNote::parse(request.note))
    };
    match (id, recipient) {
        (Some(id), Some(recipient)) if v.is_empty() => Ok((id, recipient, note)),
        _ => Err(v),
    }
}

/// A checked `ListCustodyEvents` request: the evidence and the page asked for.
pub fn custody(
    request: &pb::ListCustodyEventsRequest,
) -> Result<(Uuid, docket_platform::paging::Page), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_id("evidence_id", &request.evidence_id));
    let page = docket_platform::paging::Page::parse(
        &mut v,
        request.page_size,
        &request.page_token,
        50,
        format!("custody|{}", request.evidence_id),
    );
    match id {
        Some(id) if v.is_empty() => Ok((id, page)),
        _ => Err(v),
    }
}

/// The optional evidence id of `VerifyEvidence`.
pub fn verify(request: &pb::VerifyEvidenceRequest) -> Result<Option<Uuid>, Violations> {
    match request.evidence_id.as_str() {
        "" => Ok(None),
        id => parse_id("evidence_id", id).map(Some),
    }
}

/// A checked `DownloadEvidence` request: the evidence, and the byte range asked for.
pub fn download(request: &pb::DownloadEvidenceRequest) -> Result<(Uuid, ByteRange), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_id("evidence_id", &request.evidence_id));
    let offset = u64::try_from(request.offset).unwrap_or_else(|_| {
        v.add("offset", "must not be negative");
        0
    });
    let length = match request.length {
        0 => None,
        length => match u64::try_from(length) {
            Ok(length) => Some(length),
            Err(_) => {
                v.add("length", "must not be negative (0 means up to the end)");
                None
            }
        },
    };
    match id {
        Some(id) if v.is_empty() => Ok((id, ByteRange { offset, length })),
        _ => Err(v),
    }
}

/// The content a request names: through one of its records, or by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentSubject {
    Evidence(Uuid),
    Sha256(Sha256Hex),
}

/// `evidence_id` or `sha256`, exactly one of them.
fn content_subject(v: &mut Violations, evidence_id: &str, sha256: &str) -> Option<ContentSubject> {
    match (evidence_id, sha256) {
        ("", "") => {
            v.add("evidence_id", "give an evidence id or a sha256");
            None
        }
        (id, "") => v
            .nest("", parse_id("evidence_id", id))
            .map(ContentSubject::Evidence),
        ("", digest) => v
            .check("sha256", Sha256Hex::parse(digest))
            .map(ContentSubject::Sha256),
        (_, _) => {
            v.add("sha256", "give an evidence id or a sha256, not both");
            None
        }
    }
}

/// A checked `AssessContent` request.
pub fn assess(
    request: pb::AssessContentRequest,
) -> Result<(ContentSubject, ContentJudgement), Violations> {
    let mut v = Violations::default();
    let subject = content_subject(&mut v, &request.evidence_id, &request.sha256);
    let input = ContentJudgementInput {
        verdict: decode_enum::<pb::ContentVerdict, Verdict>(&mut v, "verdict", request.verdict),
        method: decode_enum::<pb::ContentAssessmentMethod, ContentMethod>(
            &mut v,
            "method",
            request.method,
        ),
        confidence: decode_enum::<pb::AssessmentConfidence, Confidence>(
            &mut v,
            "confidence",
            request.confidence,
        ),
        examiner: request.examiner,
        notes: request.notes,
    };
    // An undefined enum number was recorded above: the first reason for a field is kept.
    let judgement = v.nest("", ContentJudgement::parse(input));
    match (subject, judgement) {
        (Some(subject), Some(judgement)) if v.is_empty() => Ok((subject, judgement)),
        _ => Err(v),
    }
}

/// A checked `ListContentAssessments` request.
pub fn content_history(
    request: &pb::ListContentAssessmentsRequest,
) -> Result<ContentSubject, Violations> {
    let mut v = Violations::default();
    let subject = content_subject(&mut v, &request.evidence_id, &request.sha256);
    match subject {
        Some(subject) if v.is_empty() => Ok(subject),
        _ => Err(v),
    }
}

/// A checked `FindSimilarEvidence` request: the evidence, and how many candidates at most.
pub fn find_similar(request: &pb::FindSimilarEvidenceRequest) -> Result<(Uuid, usize), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_id("evidence_id", &request.evidence_id));
    let limit = match request.max_candidates {
        0 => Some(20),
        n @ 1..=100 => usize::try_from(n).ok(),
        _ => {
            v.add("max_candidates", "must be between 1 and 100 (0 means 20)");
            None
        }
    };
    match (id, limit) {
        (Some(id), Some(limit)) => Ok((id, limit)),
        _ => Err(v),
    }
}

/// A checked `ListReviewFlags` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewFlagQuery {
    pub include_cleared: bool,
    pub sha256: Option<Sha256Hex>,
    pub page_size: u64,
    pub after: Option<Uuid>,
}

impl ReviewFlagQuery {
    pub fn filters(&self) -> String {
        format!(
            "review|{}|{:?}",
            self.include_cleared,
            self.sha256.as_ref().map(Sha256Hex::as_str)
        )
    }
}

pub fn review_flags(request: &pb::ListReviewFlagsRequest) -> Result<ReviewFlagQuery, Violations> {
    let mut v = Violations::default();
    let sha256 = match request.sha256.as_str() {
        "" => None,
        digest => v.check("sha256", Sha256Hex::parse(digest)),
    };
    let page_size = docket_platform::paging::page_size(&mut v, request.page_size, 100);
    let mut query = ReviewFlagQuery {
        include_cleared: request.include_cleared,
        sha256,
        page_size,
        after: None,
    };
    if !request.page_token.is_empty() {
        let position = v.check(
            "page_token",
            docket_platform::paging::decode_token(&request.page_token, &query.filters()),
        );
        if let Some(position) = position {
            match Uuid::from_slice(&position) {
                Ok(after) => query.after = Some(after),
                Err(_) => v.add("page_token", "is not a page token of ListReviewFlags"),
            }
        }
    }
    v.into_result().map(|()| query)
}
