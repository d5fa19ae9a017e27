//! Ids or references: every field that takes a case id (a UUID) also takes the case's reference
//! (`CASE-2026-000004`), and every field that takes an allegation id its reference
//! (`ALG-2026-000004`), trimmed and in any letter case. Staff speak in references; the parsers
//! after this step see only UUIDs.
//!
//! This is the one place where references are turned into ids: each request type names its id
//! fields ([`Referenced`]), and [`resolve`] rewrites those holding a reference before the request
//! is parsed. An unknown reference is NOT_FOUND; a value that is neither a UUID nor a well-formed
//! reference is left for the parser, which reports it with the request's other bad fields.

use docket_domain::allegation::AllegationReference;
use docket_domain::case::CaseReference;
use docket_proto::docket::cases::v1 as pb;
use uuid::Uuid;

use crate::error::CaseError;
use crate::store::CaseStore;

/// What an id field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Case,
    Allegation,
}

/// A request whose id fields also take references.
pub trait Referenced {
    /// Each id field that takes a reference: what it names and its value.
    fn id_fields(&mut self) -> Vec<(Named, &mut String)>;
}

/// The canonical form of `value` when it is a well-formed reference of what `named` names.
fn canonical(named: Named, value: &str) -> Option<String> {
    let upper = value.trim().to_ascii_uppercase();
    let ok = match named {
        Named::Case => upper.parse::<CaseReference>().is_ok(),
        Named::Allegation => upper.parse::<AllegationReference>().is_ok(),
    };
    ok.then_some(upper)
}

/// Rewrites every reference in `request`'s id fields into the id it names.
pub async fn resolve<R: Referenced>(store: &CaseStore, request: &mut R) -> Result<(), CaseError> {
    for (named, value) in request.id_fields() {
        let trimmed = value.trim();
        if trimmed.is_empty() || Uuid::parse_str(trimmed).is_ok() {
            if trimmed.len() != value.len() {
                *value = trimmed.to_owned();
            }
            continue;
        }
        let Some(reference) = canonical(named, trimmed) else {
            continue;
        };
        let id = match named {
            Named::Case => store.case_by_reference(&reference).await?,
            Named::Allegation => store.allegation_by_reference(&reference).await?,
        };
        *value = id
            .ok_or(CaseError::ReferenceNotFound(reference))?
            .to_string();
    }
    Ok(())
}

/// The message for a field that takes an id or a reference and holds neither.
pub fn malformed(named: Named) -> &'static str {
    match named {
        Named::Case => "must be a case id (a UUID) or reference (CASE-YYYY-NNNNNN)",
        Named::Allegation => "must be an allegation id (a UUID) or reference (ALG-YYYY-NNNNNN)",
    }
}

macro_rules! case_id_field {
    ($($request:ty),* $(,)?) => {$(
        impl Referenced for $request {
            fn id_fields(&mut self) -> Vec<(Named, &mut String)> {
                vec![(Named::Case, &mut self.case_id)]
            }
        }
    )*};
}

case_id_field!(
    pb::GetCaseRequest,
    pb::GetCaseDossierRequest,
    pb::UpdateCaseRequest,
    pb::ListCaseHistoryRequest,
    pb::ListCaseChangesRequest,
    pb::QualifyCaseRequest,
    pb::AddPersonRequest,
    pb::UpdatePersonRequest,
    pb::ListPersonsRequest,
    pb::RemovePersonRequest,
    pb::FileChargeRequest,
    pb::UpdateChargeStatusRequest,
    pb::ListChargesRequest,
    pb::LinkEvidenceRequest,
    pb::UnlinkEvidenceRequest,
    pb::ListEvidenceRequest,
    pb::RecordAssessmentRequest,
    pb::ListAssessmentsRequest,
);

impl Referenced for pb::TransitionCaseRequest {
    fn id_fields(&mut self) -> Vec<(Named, &mut String)> {
        vec![
            (Named::Case, &mut self.case_id),
            (Named::Case, &mut self.merged_into_case_id),
        ]
    }
}

impl Referenced for pb::ListCasesRequest {
    fn id_fields(&mut self) -> Vec<(Named, &mut String)> {
        vec![(Named::Allegation, &mut self.allegation_id)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_recognised_trimmed_in_any_case() {
        assert_eq!(
            canonical(Named::Case, " case-2026-000004 ").as_deref(),
            Some("CASE-2026-000004")
        );
        assert_eq!(
            canonical(Named::Allegation, "Alg-2026-000004").as_deref(),
            Some("ALG-2026-000004")
        );
        assert_eq!(canonical(Named::Case, "ALG-2026-000004"), None);
        assert_eq!(canonical(Named::Case, "CASE-2026-4"), None);
    }
}
