//! Ids or references: every field that takes an allegation id (a UUID) also takes the
//! allegation's reference (`ALG-2026-000004`), and every field that takes a case id
//! (`join_case_id`, an upload's `case_id`, `ListEvidence`'s `case_id`) a case's reference
//! (`CASE-2026-000004`), trimmed and in any letter case. Staff speak in references; the parsers
//! after this step see only UUIDs.
//!
//! This is the one place where intake turns references into ids: each request type names its id
//! fields ([`Referenced`]), and [`resolve`] rewrites those holding a reference before the request
//! is parsed. Allegations are looked up here; a case reference is asked of case management,
//! which owns cases. An unknown reference is NOT_FOUND; a value that is neither a UUID nor a
//! well-formed reference is left for the parser, which reports it with the other bad fields.

use docket_domain::allegation::AllegationReference;
use docket_domain::case::CaseReference;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::entity::prelude::*;
use sea_orm::{DatabaseConnection, QuerySelect};

use crate::delivery::ToCaseManagement;
use crate::entity::allegation;
use crate::error::IntakeError;

/// What an id field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Allegation,
    Case,
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
        Named::Allegation => upper.parse::<AllegationReference>().is_ok(),
        Named::Case => upper.parse::<CaseReference>().is_ok(),
    };
    ok.then_some(upper)
}

/// Rewrites every reference in `request`'s id fields into the id it names. `cases` answers case
/// references; without it they are left for the parser.
pub async fn resolve<R: Referenced>(
    db: &DatabaseConnection,
    cases: Option<&ToCaseManagement>,
    request: &mut R,
) -> Result<(), IntakeError> {
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
        let id = match (named, cases) {
            (Named::Allegation, _) => allegation::Entity::find()
                .filter(allegation::Column::Reference.eq(reference.as_str()))
                .select_only()
                .column(allegation::Column::Id)
                .into_tuple::<Uuid>()
                .one(db)
                .await?
                .ok_or(IntakeError::ReferenceNotFound(reference))?,
            (Named::Case, Some(cases)) => cases.case_by_reference(&reference).await?,
            (Named::Case, None) => continue,
        };
        *value = id.to_string();
    }
    Ok(())
}

/// The message for a field that takes an id or a reference and holds neither.
pub fn malformed(named: Named) -> &'static str {
    match named {
        Named::Allegation => "must be an allegation id (a UUID) or reference (ALG-YYYY-NNNNNN)",
        Named::Case => "must be a case id (a UUID) or reference (CASE-YYYY-NNNNNN)",
    }
}

macro_rules! allegation_id_field {
    ($($request:ty => $field:ident),* $(,)?) => {$(
        impl Referenced for $request {
            fn id_fields(&mut self) -> Vec<(Named, &mut String)> {
                vec![(Named::Allegation, &mut self.$field)]
            }
        }
    )*};
}

allegation_id_field!(
    pb::GetAllegationRequest => id,
    pb::StartReviewRequest => id,
    pb::RejectAllegationRequest => id,
    pb::UpdateAllegationRequest => id,
    pb::ReopenAllegationRequest => id,
    pb::ListAllegationChangesRequest => id,
    pb::ListSimilarAllegationsRequest => allegation_id,
);

impl Referenced for pb::ListEvidenceRequest {
    fn id_fields(&mut self) -> Vec<(Named, &mut String)> {
        vec![
            (Named::Allegation, &mut self.allegation_id),
            (Named::Case, &mut self.case_id),
        ]
    }
}

impl Referenced for pb::EvidenceMetadata {
    fn id_fields(&mut self) -> Vec<(Named, &mut String)> {
        vec![
            (Named::Allegation, &mut self.allegation_id),
            (Named::Case, &mut self.case_id),
        ]
    }
}

impl Referenced for pb::AcceptAllegationRequest {
    fn id_fields(&mut self) -> Vec<(Named, &mut String)> {
        vec![
            (Named::Allegation, &mut self.id),
            (Named::Case, &mut self.join_case_id),
        ]
    }
}

impl Referenced for pb::MarkDuplicateRequest {
    fn id_fields(&mut self) -> Vec<(Named, &mut String)> {
        vec![
            (Named::Allegation, &mut self.id),
            (Named::Allegation, &mut self.duplicate_of_id),
        ]
    }
}

impl Referenced for pb::StartUploadRequest {
    fn id_fields(&mut self) -> Vec<(Named, &mut String)> {
        self.metadata
            .as_mut()
            .map(Referenced::id_fields)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_recognised_trimmed_in_any_case() {
        assert_eq!(
            canonical(Named::Allegation, " alg-2026-000004\t").as_deref(),
            Some("ALG-2026-000004")
        );
        assert_eq!(
            canonical(Named::Case, "Case-2026-000004").as_deref(),
            Some("CASE-2026-000004")
        );
        assert_eq!(canonical(Named::Allegation, "CASE-2026-000004"), None);
        assert_eq!(canonical(Named::Allegation, "ALG-2026-04"), None);
    }
}
