//! Every request reporting parses, from its bytes, by message name: what the property tests and
//! the fuzz target drive (feature `fuzzing`; not built into the service). Each entry decodes
//! the message as tonic would and parses it exactly as [`crate::api`] does.

use docket_proto::docket::reporting::v1 as pb;
use docket_proto::generate::{Parsed, Parser};

use crate::release::service::{parse_number, parse_title};

/// Reporting's parsers.
pub const PARSERS: &[Parser] = &[
    (".docket.reporting.v1.QueryStatisticsRequest", |b| {
        Parsed::of(b, crate::statistics::parse)
    }),
    (".docket.reporting.v1.ExportCasesRequest", |b| {
        Parsed::of(b, crate::export::parse)
    }),
    (".docket.reporting.v1.RenderReportRequest", |b| {
        Parsed::of(b, crate::report::parse)
    }),
    (".docket.reporting.v1.CreateReleaseRequest", |b| {
        Parsed::of(b, |r: pb::CreateReleaseRequest| {
            parse_title(&r.title).map(str::to_owned)
        })
    }),
    (".docket.reporting.v1.GetReleaseRequest", |b| {
        Parsed::of(b, |r: pb::GetReleaseRequest| parse_number(r.number))
    }),
    (".docket.reporting.v1.ExportReleaseRequest", |b| {
        Parsed::of(b, |r: pb::ExportReleaseRequest| parse_number(r.number))
    }),
    (".docket.reporting.v1.RenderReleaseRequest", |b| {
        Parsed::of(b, |r: pb::RenderReleaseRequest| parse_number(r.number))
    }),
    (".docket.reporting.v1.ReproduceReleaseRequest", |b| {
        Parsed::of(b, |r: pb::ReproduceReleaseRequest| {
            crate::release::reproduce::parse_file(&r.file).map(|_| ())
        })
    }),
];
