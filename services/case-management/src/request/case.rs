//! Requests about cases themselves.

use chrono::{DateTime, Utc};
use docket_domain::Violations;
use docket_domain::case::{
    CaseField, CaseStatus, CloseReason, CrimeTypeCode, Qualification, ReceivedAllegation, Taxonomy,
    Transition,
};
use docket_domain::history::ChangeReason;
use docket_domain::incident::ViolationType;
use docket_domain::party::{KnownParties, PartyCode};
use docket_platform::history::ChangesQuery;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use docket_proto::{decode_enum, parse_case_content, parse_received_allegation, parse_time};
use uuid::Uuid;

use super::{case_id, etag, id_of, reference::Named, uuid};
use crate::store::{CaseChange, CaseQuery};

/// A valid request to change case `id` whose current etag the caller says is `etag`.
#[derive(Debug)]
pub struct CaseCommand {
    pub id: Uuid,
    pub etag: String,
    pub change: CaseChange,
    /// Why, for the case's history, when the caller said.
    pub reason: Option<ChangeReason>,
}

pub fn receive(
    request: pb::ReceiveAllegationRequest,
    now: DateTime<Utc>,
) -> Result<ReceivedAllegation, Violations> {
    match request.allegation {
        Some(snapshot) => parse_received_allegation("allegation", snapshot, now),
        None => Err(Violations::single("allegation", "is required")),
    }
}

pub fn open(
    request: pb::OpenCaseRequest,
    parties: &KnownParties,
    now: DateTime<Utc>,
) -> Result<Vec<docket_domain::case::CaseContent>, Violations> {
    match request.r#case {
        Some(case) => parse_case_content("case", case, CaseField::ALL, parties, now),
        None => Err(Violations::single("case", "is required")),
    }
}

pub fn get(request: &pb::GetCaseRequest) -> Result<Uuid, Violations> {
    super::list_by_case(&request.case_id)
}

pub fn changes(request: &pb::ListCaseChangesRequest) -> Result<ChangesQuery, Violations> {
    let mut v = Violations::default();
    let Some(id) = case_id(&mut v, "case_id", &request.case_id) else {
        // The token belongs to a case, so it is not checked without one.
        docket_platform::paging::page_size(&mut v, request.page_size, 0);
        return Err(v);
    };
    let query = ChangesQuery::parse(&mut v, "case", id, request.page_size, &request.page_token);
    v.into_result().map(|()| query)
}

pub fn list(request: pb::ListCasesRequest) -> Result<CaseQuery, Violations> {
    let mut v = Violations::default();
    let page_size =
        docket_platform::paging::page_size(&mut v, request.page_size, CaseQuery::DEFAULT_PAGE_SIZE);
    let status = decode_enum::<pb::CaseStatus, CaseStatus>(&mut v, "status", request.status);
    let party = match request.party_code.as_str() {
        "" => None,
        code => v.check("party_code", PartyCode::parse(code)),
    };
    let crime_type = match request.crime_type_code.as_str() {
        "" => None,
        code => v.check("crime_type_code", CrimeTypeCode::parse(code)),
    };
    let allegation = match request.allegation_id.as_str() {
        "" => None,
        raw => id_of(&mut v, Named::Allegation, "allegation_id", raw),
    };
    let opened_after = request
        .opened_after
        .and_then(|t| v.check("opened_after", parse_time(&t)));
    let opened_before = request
        .opened_before
        .and_then(|t| v.check("opened_before", parse_time(&t)));
    if let (Some(after), Some(before)) = (opened_after, opened_before)
        && before <= after
    {
        v.add("opened_before", "must be later than opened_after");
    }
    let person = match request.person_id.as_str() {
        "" => None,
        raw => uuid(&mut v, "person_id", raw),
    };
    let assignee = short_text(&mut v, "assignee", &request.assignee);
    let place = short_text(&mut v, "place_name", &request.place_name);
    let incident_from = request
        .incident_from_time
        .and_then(|t| v.check("incident_from_time", parse_time(&t)));
    let incident_to = request
        .incident_to_time
        .and_then(|t| v.check("incident_to_time", parse_time(&t)));
    if let (Some(from), Some(to)) = (incident_from, incident_to)
        && to <= from
    {
        v.add("incident_to_time", "must be later than incident_from_time");
    }
    let violation_type = decode_enum::<common::ViolationType, ViolationType>(
        &mut v,
        "violation_type",
        request.violation_type,
    );
    let mut query = CaseQuery {
        page_size,
        after: None,
        status,
        party,
        crime_type,
        allegation,
        opened_after,
        opened_before,
        person,
        assignee,
        incident_from,
        incident_to,
        place,
        violation_type,
    };
    if !request.page_token.is_empty() {
        query.after = v.check("page_token", query.parse_page_token(&request.page_token));
    }
    v.into_result().map(|()| query)
}

/// An optional filter text in `field`: trimmed, up to 200 characters, no control characters.
fn short_text(v: &mut Violations, field: &str, raw: &str) -> Option<String> {
    let text = raw.trim();
    if text.is_empty() {
        return None;
    }
    if text.chars().count() > 200 {
        v.add(field, "must be at most 200 characters");
        return None;
    }
    if text.chars().any(char::is_control) {
        v.add(field, "must not contain control characters");
        return None;
    }
    Some(text.to_owned())
}

pub fn update(
    request: pb::UpdateCaseRequest,
    parties: &KnownParties,
    now: DateTime<Utc>,
) -> Result<CaseCommand, Violations> {
    let mut v = Violations::default();
    let id = case_id(&mut v, "case_id", &request.case_id);
    let etag = etag(&mut v, "etag", request.etag, true);
    let mut fields = Vec::new();
    match request.update_mask {
        None => v.add("update_mask", "is required: name the fields to change"),
        Some(mask) if mask.paths.is_empty() => {
            v.add("update_mask.paths", "name at least one field to change");
        }
        Some(mask) => {
            for (index, path) in mask.paths.iter().enumerate() {
                match CaseField::from_code(path) {
                    Ok(field) if fields.contains(&field) => {
                        v.add(
                            format!("update_mask.paths[{index}]"),
                            format!("repeats {path}"),
                        );
                    }
                    Ok(field) => fields.push(field),
                    Err(_) => v.add(
                        format!("update_mask.paths[{index}]"),
                        format!(
                            "{path:?} cannot be changed; fields that can: {}",
                            CaseField::ALL
                                .iter()
                                .map(|f| f.code())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ),
                }
            }
        }
    }
    let content = match request.r#case {
        None => {
            v.add("case", "is required: it carries the new values");
            None
        }
        Some(case) => v.nest("", parse_case_content("case", case, &fields, parties, now)),
    };
    let reason = if request.reason.trim().is_empty() {
        None
    } else {
        v.check("reason", ChangeReason::parse(request.reason))
    };
    match (id, etag, content) {
        (Some(id), Some(etag), Some(content)) if v.is_empty() => Ok(CaseCommand {
            id,
            etag,
            change: CaseChange::Update(content),
            reason,
        }),
        _ => Err(v),
    }
}

pub fn transition(request: pb::TransitionCaseRequest) -> Result<CaseCommand, Violations> {
    let mut v = Violations::default();
    let id = case_id(&mut v, "case_id", &request.case_id);
    let etag = etag(&mut v, "etag", request.etag, true);
    let target =
        decode_enum::<pb::CaseStatus, CaseStatus>(&mut v, "target_status", request.target_status);
    let reason = decode_enum::<pb::CloseReason, CloseReason>(&mut v, "reason", request.reason);
    let merged_into = match request.merged_into_case_id.as_str() {
        "" => None,
        raw => case_id(&mut v, "merged_into_case_id", raw),
    };
    let wire_ok = v.is_empty();
    let transition = v.nest(
        "",
        Transition::parse(
            target,
            reason,
            request.note,
            merged_into,
            id.unwrap_or_default(),
        ),
    );
    match (id, etag, transition) {
        (Some(id), Some(etag), Some(transition)) if wire_ok && v.is_empty() => Ok(CaseCommand {
            id,
            etag,
            change: CaseChange::Transition(transition),
            reason: None,
        }),
        _ => Err(v),
    }
}

pub fn qualify(
    request: pb::QualifyCaseRequest,
    taxonomy: &Taxonomy,
) -> Result<CaseCommand, Violations> {
    let mut v = Violations::default();
    let id = case_id(&mut v, "case_id", &request.case_id);
    let etag = etag(&mut v, "etag", request.etag, true);
    let qualification = v.nest(
        "",
        Qualification::parse(
            &request.add_crime_type_codes,
            &request.remove_crime_type_codes,
            taxonomy,
        ),
    );
    match (id, etag, qualification) {
        (Some(id), Some(etag), Some(q)) if v.is_empty() => Ok(CaseCommand {
            id,
            etag,
            change: CaseChange::Qualify(q),
            reason: None,
        }),
        _ => Err(v),
    }
}
