//! Corrections with their history: allegations corrected in triage (with an etag) and reopened
//! once rejected, a related allegation joining an existing case with its victims counted once,
//! persons removed from cases and evidence unlinked, each with a reason; every change readable
//! field by field, sealed values only ever shown as sealed.

mod allegations;
mod bad_input;
mod cases;
mod joining;

use docket_e2e::{CaseClient, IntakeClient};
use docket_proto::docket::cases::v1 as cm;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;

/// Every change of allegation `id`, oldest first, read a page of two at a time.
async fn allegation_changes(intake: &mut IntakeClient, id: &str) -> Vec<common::Change> {
    let mut changes = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = intake
            .list_allegation_changes(pb::ListAllegationChangesRequest {
                id: id.to_owned(),
                page_size: 2,
                page_token,
            })
            .await
            .unwrap()
            .into_inner();
        changes.extend(page.changes);
        if page.next_page_token.is_empty() {
            return changes;
        }
        page_token = page.next_page_token;
    }
}

/// Every change of case `id`, oldest first, read a page of two at a time.
async fn case_changes(cases: &mut CaseClient, id: &str) -> Vec<common::Change> {
    let mut changes = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = cases
            .list_case_changes(cm::ListCaseChangesRequest {
                case_id: id.to_owned(),
                page_size: 2,
                page_token,
            })
            .await
            .unwrap()
            .into_inner();
        changes.extend(page.changes);
        if page.next_page_token.is_empty() {
            return changes;
        }
        page_token = page.next_page_token;
    }
}

/// The field `name` of `change`, which must be there.
fn field<'a>(change: &'a common::Change, name: &str) -> &'a common::FieldChange {
    change
        .fields
        .iter()
        .find(|f| f.field == name)
        .unwrap_or_else(|| panic!("{name} is not among the fields of {change:?}"))
}

/// The fields `change` touched, by name.
fn names(change: &common::Change) -> Vec<&str> {
    change.fields.iter().map(|f| f.field.as_str()).collect()
}

/// An update mask naming `paths`.
fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

/// Submits `sent` to intake; returns the allegation as registered.
async fn register(intake: &mut IntakeClient, sent: pb::Allegation) -> pb::Allegation {
    intake
        .submit_allegation(docket_e2e::submit_request(sent))
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
}

/// Allegation `id` as it is now.
async fn allegation(intake: &mut IntakeClient, id: &str) -> pb::Allegation {
    intake
        .get_allegation(pb::GetAllegationRequest { id: id.to_owned() })
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
}

/// Case `id` as it is now.
async fn case(cases: &mut CaseClient, id: &str) -> cm::Case {
    cases
        .get_case(cm::GetCaseRequest {
            case_id: id.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap()
}

/// The number of victims in the figures of `case`.
fn casualties(case: &cm::Case) -> i32 {
    case.victims.iter().map(|g| g.count).sum()
}
