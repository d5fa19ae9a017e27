//! Parsing never panics and never lets bad data through, for every request intake parses (see
//! `docket_proto::parser_properties!`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: failing loudly is their job

docket_proto::parser_properties! {
    service: "docket.intake.v1.IntakeService",
    fuzz_service: 0,
    seed: 0x0d0c_6e7a_0000_0001,
    parsers: crate::parsers::PARSERS,
    not_parsed: [
        // Streams: the metadata they open with is StartUploadRequest's, parsed there; the rest
        // is file content and an upload id.
        ".docket.intake.v1.UploadEvidenceRequest",
        ".docket.intake.v1.WriteUploadRequest",
    ],
}
