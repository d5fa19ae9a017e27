//! Requests for the lists of a case's parts, each read a page at a time.

use docket_domain::Violations;
use docket_domain::case::PersonRole;
use docket_platform::paging::Page;
use docket_proto::decode_enum;
use docket_proto::docket::cases::v1 as pb;
use uuid::Uuid;

use super::{case_id, uuid};

/// As for `ListCases` and `ListCaseChanges`.
const DEFAULT_PAGE_SIZE: u64 = 50;

/// The case and page of a list of one case's parts; `extra` describes the other filters.
fn case_page(
    v: &mut Violations,
    list: &str,
    raw_case: &str,
    size: i32,
    token: &str,
    extra: &str,
) -> Option<(Uuid, Page)> {
    let Some(id) = case_id(v, "case_id", raw_case) else {
        // The token belongs to a case, so it is not checked without one.
        docket_platform::paging::page_size(v, size, DEFAULT_PAGE_SIZE);
        return None;
    };
    let filters = format!("{list}|{id}|{extra}");
    Some((id, Page::parse(v, size, token, DEFAULT_PAGE_SIZE, filters)))
}

pub fn history(request: &pb::ListCaseHistoryRequest) -> Result<(Uuid, Page), Violations> {
    let mut v = Violations::default();
    let page = case_page(
        &mut v,
        "history",
        &request.case_id,
        request.page_size,
        &request.page_token,
        "",
    );
    match page {
        Some(page) if v.is_empty() => Ok(page),
        _ => Err(v),
    }
}

pub fn charges(request: &pb::ListChargesRequest) -> Result<(Uuid, Page), Violations> {
    let mut v = Violations::default();
    let page = case_page(
        &mut v,
        "charges",
        &request.case_id,
        request.page_size,
        &request.page_token,
        "",
    );
    match page {
        Some(page) if v.is_empty() => Ok(page),
        _ => Err(v),
    }
}

pub fn evidence(request: &pb::ListEvidenceRequest) -> Result<(Uuid, Page), Violations> {
    let mut v = Violations::default();
    let page = case_page(
        &mut v,
        "evidence",
        &request.case_id,
        request.page_size,
        &request.page_token,
        "",
    );
    match page {
        Some(page) if v.is_empty() => Ok(page),
        _ => Err(v),
    }
}

pub fn persons(
    request: &pb::ListPersonsRequest,
) -> Result<(Uuid, Option<PersonRole>, Page), Violations> {
    let mut v = Violations::default();
    // Decoded apart so that violations keep the order of the request's fields.
    let mut role_violations = Violations::default();
    let role =
        decode_enum::<pb::PersonRole, PersonRole>(&mut role_violations, "role", request.role);
    let page = case_page(
        &mut v,
        "persons",
        &request.case_id,
        request.page_size,
        &request.page_token,
        &format!("{:?}", role.map(PersonRole::code)),
    );
    v.absorb("", role_violations);
    match page {
        Some((id, page)) if v.is_empty() => Ok((id, role, page)),
        _ => Err(v),
    }
}

pub fn assessments(
    request: &pb::ListAssessmentsRequest,
) -> Result<(Uuid, Option<Uuid>, Page), Violations> {
    let mut v = Violations::default();
    // Checked apart so that violations keep the order of the request's fields.
    let mut evidence_violations = Violations::default();
    let evidence = match request.evidence_id.as_str() {
        "" => None,
        raw => uuid(&mut evidence_violations, "evidence_id", raw),
    };
    let page = case_page(
        &mut v,
        "assessments",
        &request.case_id,
        request.page_size,
        &request.page_token,
        &format!("{evidence:?}"),
    );
    v.absorb("", evidence_violations);
    match page {
        Some((id, page)) if v.is_empty() => Ok((id, evidence, page)),
        _ => Err(v),
    }
}
