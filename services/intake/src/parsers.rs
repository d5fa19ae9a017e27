//! Every request intake parses, from its bytes, by message name: what the property tests and
//! the fuzz target drive (feature `fuzzing`; not built into the service). Each entry decodes
//! the message as tonic would and parses it exactly as [`crate::api`] does, with a fixed
//! clock, the default parties and a fixed caller.

use chrono::{DateTime, Utc};
use docket_domain::party::KnownParties;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::generate::{Parsed, Parser};

use crate::evidence::request as evidence;
use crate::request;

/// The instant every parse happens at.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
}

/// No parties configured: every well-formed code is admitted.
fn parties() -> KnownParties {
    KnownParties::parse::<&str>(&[]).unwrap_or_default()
}

const CALLER: &str = "officer-7";

/// Intake's parsers.
pub const PARSERS: &[Parser] = &[
    (".docket.intake.v1.SubmitAllegationRequest", |b| {
        Parsed::of(b, |r| request::submit(r, &parties(), now()))
    }),
    (".docket.intake.v1.GetAllegationRequest", |b| {
        Parsed::of(b, |r: pb::GetAllegationRequest| {
            request::parse_id("id", &r.id)
        })
    }),
    (".docket.intake.v1.ListAllegationsRequest", |b| {
        Parsed::of(b, request::list)
    }),
    (".docket.intake.v1.StartReviewRequest", |b| {
        Parsed::of(b, |r| request::start_review(r, CALLER))
    }),
    (".docket.intake.v1.AcceptAllegationRequest", |b| {
        Parsed::of(b, request::accept)
    }),
    (".docket.intake.v1.RejectAllegationRequest", |b| {
        Parsed::of(b, request::reject)
    }),
    (".docket.intake.v1.MarkDuplicateRequest", |b| {
        Parsed::of(b, request::mark_duplicate)
    }),
    (".docket.intake.v1.UpdateAllegationRequest", |b| {
        Parsed::of(b, request::update)
    }),
    (".docket.intake.v1.ReopenAllegationRequest", |b| {
        Parsed::of(b, |r| request::reopen(r, CALLER))
    }),
    (".docket.intake.v1.ListDeadLettersRequest", |b| {
        Parsed::of(b, |r: pb::ListDeadLettersRequest| request::dead_letters(&r))
    }),
    (".docket.intake.v1.RetryDeadLetterRequest", |b| {
        Parsed::of(b, |r: pb::RetryDeadLetterRequest| {
            request::parse_id("id", &r.id)
        })
    }),
    (".docket.intake.v1.DropDeadLetterRequest", |b| {
        Parsed::of(b, |r: pb::DropDeadLetterRequest| {
            request::parse_id("id", &r.id)
        })
    }),
    (".docket.intake.v1.GetUploadStatusRequest", |b| {
        Parsed::of(b, |r: pb::GetUploadStatusRequest| {
            request::parse_id("upload_id", &r.upload_id)
        })
    }),
    (".docket.intake.v1.GetEvidenceRequest", |b| {
        Parsed::of(b, |r: pb::GetEvidenceRequest| {
            request::parse_id("evidence_id", &r.evidence_id)
        })
    }),
    (".docket.intake.v1.RecordCaseCustodyRequest", |b| {
        Parsed::of(b, crate::evidence::case_custody)
    }),
    (".docket.intake.v1.ExportCustodyReportRequest", |b| {
        Parsed::of(b, |r: pb::ExportCustodyReportRequest| {
            request::parse_id("evidence_id", &r.evidence_id)
        })
    }),
    (".docket.intake.v1.ListCustodyEventsRequest", |b| {
        Parsed::of(b, |r: pb::ListCustodyEventsRequest| {
            request::parse_id("evidence_id", &r.evidence_id)
        })
    }),
    (".docket.intake.v1.ListAllegationChangesRequest", |b| {
        Parsed::of(b, |r: pb::ListAllegationChangesRequest| {
            request::changes(&r)
        })
    }),
    (".docket.intake.v1.CheckAllegationStatusRequest", |b| {
        Parsed::of(b, |r: pb::CheckAllegationStatusRequest| {
            request::receipt(&r).map(str::to_owned)
        })
    }),
    (".docket.intake.v1.StartUploadRequest", |b| {
        Parsed::of(b, |r: pb::StartUploadRequest| match r.metadata {
            Some(metadata) => evidence::upload_header(metadata, now()),
            None => Err(docket_domain::Violations::single("metadata", "is required")),
        })
    }),
    (".docket.intake.v1.DownloadEvidenceRequest", |b| {
        Parsed::of(b, |r: pb::DownloadEvidenceRequest| evidence::download(&r))
    }),
    (".docket.intake.v1.ListEvidenceRequest", |b| {
        Parsed::of(b, evidence::list)
    }),
    (".docket.intake.v1.VerifyEvidenceRequest", |b| {
        Parsed::of(b, |r: pb::VerifyEvidenceRequest| evidence::verify(&r))
    }),
    (".docket.intake.v1.FindSimilarEvidenceRequest", |b| {
        Parsed::of(b, |r: pb::FindSimilarEvidenceRequest| {
            evidence::find_similar(&r)
        })
    }),
    (".docket.intake.v1.SearchAllegationsRequest", |b| {
        Parsed::of(b, |r: pb::SearchAllegationsRequest| {
            request::search::search(&r)
        })
    }),
    (".docket.intake.v1.ListSimilarAllegationsRequest", |b| {
        Parsed::of(b, |r: pb::ListSimilarAllegationsRequest| {
            request::search::similar(&r)
        })
    }),
    (".docket.intake.v1.RecordTransferRequest", |b| {
        Parsed::of(b, evidence::transfer)
    }),
    (".docket.intake.v1.AssessContentRequest", |b| {
        Parsed::of(b, evidence::assess)
    }),
    (".docket.intake.v1.ListContentAssessmentsRequest", |b| {
        Parsed::of(b, |r: pb::ListContentAssessmentsRequest| {
            evidence::content_history(&r)
        })
    }),
    (".docket.intake.v1.ListReviewFlagsRequest", |b| {
        Parsed::of(b, |r: pb::ListReviewFlagsRequest| {
            evidence::review_flags(&r)
        })
    }),
];
