//! Requests that correct an allegation, reopen it, or read its history.

use docket_domain::Violations;
use docket_domain::allegation::ReviewerName;
use docket_domain::history::ChangeReason;
use docket_proto::docket::intake::v1 as pb;
use uuid::Uuid;

use super::{parse_allegation_id, source_message};
use docket_platform::history::ChangesQuery;

use crate::store::{CorrectedField, Correction, TriageCommand};

pub fn update(request: pb::UpdateAllegationRequest) -> Result<Correction, Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_allegation_id("id", &request.id));
    let etag = docket_platform::etag::parse(&mut v, "etag", request.etag, true);
    let mut fields: Vec<CorrectedField> = Vec::new();
    match request.update_mask {
        None => v.add("update_mask", "is required: name the fields to correct"),
        Some(mask) if mask.paths.is_empty() => {
            v.add("update_mask.paths", "name at least one field to correct");
        }
        Some(mask) => {
            for (index, path) in mask.paths.iter().enumerate() {
                let field = format!("update_mask.paths[{index}]");
                match CorrectedField::from_path(path) {
                    Some(new) if fields.iter().any(|f| f.overlaps(new)) => {
                        v.add(field, format!("repeats {path} or a part of it"));
                    }
                    Some(new) => fields.push(new),
                    None => v.add(
                        field,
                        format!(
                            "{path:?} cannot be corrected; fields that can: {}",
                            CorrectedField::ALL
                                .iter()
                                .map(|f| f.path())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ),
                }
            }
        }
    }
    if request.allegation.is_none() {
        v.add("allegation", "is required: it carries the new values");
    }
    let reason = v.check("reason", ChangeReason::parse(request.reason));
    match (id, etag, request.allegation, reason) {
        (Some(id), Some(etag), Some(allegation), Some(reason)) if v.is_empty() => Ok(Correction {
            id,
            etag,
            fields,
            allegation,
            reason,
        }),
        _ => Err(v),
    }
}

/// A reopening by `reviewer`, the caller, who reviews the allegation from then on.
pub fn reopen(
    request: pb::ReopenAllegationRequest,
    reviewer: &str,
) -> Result<(Uuid, TriageCommand), Violations> {
    let mut v = Violations::default();
    let id = v.nest("", parse_allegation_id("id", &request.id));
    let etag = docket_platform::etag::parse(&mut v, "etag", request.etag, false);
    let reason = v.check("reason", ChangeReason::parse(request.reason));
    let message = source_message(&mut v, "message_for_source", request.message_for_source);
    // A subject is a verified token's; one that is too long to record is the token's fault.
    let reviewer = v.check(
        "authorization",
        ReviewerName::parse(reviewer).map_err(|reason| format!("the token's subject {reason}")),
    );
    match (id, reason, reviewer) {
        (Some(id), Some(reason), Some(reviewer)) if v.is_empty() => Ok((
            id,
            TriageCommand::Reopen {
                reviewer,
                reason,
                message,
                etag,
            },
        )),
        _ => Err(v),
    }
}

pub fn changes(request: &pb::ListAllegationChangesRequest) -> Result<ChangesQuery, Violations> {
    let mut v = Violations::default();
    let Some(id) = v.nest("", parse_allegation_id("id", &request.id)) else {
        // The token belongs to an allegation, so it is not checked without one.
        docket_platform::paging::page_size(&mut v, request.page_size, 0);
        return Err(v);
    };
    let query = ChangesQuery::parse(
        &mut v,
        "allegation",
        id,
        request.page_size,
        &request.page_token,
    );
    v.into_result().map(|()| query)
}
