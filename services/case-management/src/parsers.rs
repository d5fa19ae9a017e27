//! Every request case management parses, from its bytes, by message name: what the property
//! tests and the fuzz target drive (feature `fuzzing`; not built into the service). Each entry
//! decodes the message as tonic would and parses it exactly as [`crate::api`] does, with a fixed
//! clock, the default parties and the built-in taxonomy.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use docket_domain::case::Taxonomy;
use docket_domain::party::KnownParties;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::generate::{Parsed, Parser};

use crate::request;

/// The instant every parse happens at.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
}

/// No parties configured: every well-formed code is admitted.
fn parties() -> KnownParties {
    KnownParties::parse::<&str>(&[]).unwrap_or_default()
}

// The built-in taxonomy is compiled in and checked by its own tests.
#[allow(clippy::expect_used)]
fn taxonomy() -> &'static Taxonomy {
    static TAXONOMY: OnceLock<Taxonomy> = OnceLock::new();
    TAXONOMY.get_or_init(|| crate::taxonomy::load(None).expect("the built-in taxonomy"))
}

/// Case management's parsers.
pub const PARSERS: &[Parser] = &[
    (".docket.cases.v1.ReceiveAllegationRequest", |b| {
        Parsed::of(b, |r| request::receive(r, now()))
    }),
    (".docket.cases.v1.ReceiveEvidenceRequest", |b| {
        Parsed::of(b, |r: pb::ReceiveEvidenceRequest| {
            request::receive_evidence(&r)
        })
    }),
    (".docket.cases.v1.OpenCaseRequest", |b| {
        Parsed::of(b, |r| request::open(r, &parties(), now()))
    }),
    (".docket.cases.v1.GetCaseRequest", |b| {
        Parsed::of(b, |r: pb::GetCaseRequest| request::get(&r))
    }),
    (".docket.cases.v1.GetCaseDossierRequest", |b| {
        Parsed::of(b, |r: pb::GetCaseDossierRequest| {
            request::list_by_case(&r.case_id)
        })
    }),
    (".docket.cases.v1.ListCasesRequest", |b| {
        Parsed::of(b, request::list)
    }),
    (".docket.cases.v1.SearchCasesRequest", |b| {
        Parsed::of(b, |r: pb::SearchCasesRequest| request::search(&r))
    }),
    (".docket.cases.v1.UpdateCaseRequest", |b| {
        Parsed::of(b, |r| request::update(r, &parties(), now()))
    }),
    (".docket.cases.v1.TransitionCaseRequest", |b| {
        Parsed::of(b, request::transition)
    }),
    (".docket.cases.v1.ListCaseHistoryRequest", |b| {
        Parsed::of(b, |r: pb::ListCaseHistoryRequest| request::history(&r))
    }),
    (".docket.cases.v1.ListCaseChangesRequest", |b| {
        Parsed::of(b, |r: pb::ListCaseChangesRequest| request::changes(&r))
    }),
    (".docket.cases.v1.QualifyCaseRequest", |b| {
        Parsed::of(b, |r| request::qualify(r, taxonomy()))
    }),
    (".docket.cases.v1.AddPersonRequest", |b| {
        Parsed::of(b, request::add_person)
    }),
    (".docket.cases.v1.UpdatePersonRequest", |b| {
        Parsed::of(b, request::update_person)
    }),
    (".docket.cases.v1.ListPersonsRequest", |b| {
        Parsed::of(b, |r: pb::ListPersonsRequest| request::persons(&r))
    }),
    (".docket.cases.v1.RemovePersonRequest", |b| {
        Parsed::of(b, request::remove_person)
    }),
    (".docket.cases.v1.ListCasualtyCandidatesRequest", |b| {
        Parsed::of(b, request::casualty_candidates)
    }),
    (".docket.cases.v1.ConfirmCasualtyMatchRequest", |b| {
        Parsed::of(b, |r: pb::ConfirmCasualtyMatchRequest| {
            request::casualty_pair(&r.person_id, &r.other_person_id, r.reason)
        })
    }),
    (".docket.cases.v1.FileChargeRequest", |b| {
        Parsed::of(b, |r| request::file_charge(r, now()))
    }),
    (".docket.cases.v1.UpdateChargeStatusRequest", |b| {
        Parsed::of(b, request::update_charge_status)
    }),
    (".docket.cases.v1.ListChargesRequest", |b| {
        Parsed::of(b, |r: pb::ListChargesRequest| {
            request::list_by_case(&r.case_id)
        })
    }),
    (".docket.cases.v1.LinkEvidenceRequest", |b| {
        Parsed::of(b, request::link_evidence)
    }),
    (".docket.cases.v1.UnlinkEvidenceRequest", |b| {
        Parsed::of(b, request::unlink_evidence)
    }),
    (".docket.cases.v1.RecordAssessmentRequest", |b| {
        Parsed::of(b, request::record_assessment)
    }),
    (".docket.cases.v1.ListAssessmentsRequest", |b| {
        Parsed::of(b, |r: pb::ListAssessmentsRequest| request::assessments(&r))
    }),
];
