//! Parsing never panics and never lets bad data through, for every request case management
//! parses (see `docket_proto::parser_properties!`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: failing loudly is their job

docket_proto::parser_properties! {
    service: "docket.cases.v1.CaseService",
    fuzz_service: 1,
    seed: 0x0d0c_6e7a_0000_0004,
    parsers: crate::parsers::PARSERS,
    not_parsed: [
        // No fields.
        ".docket.cases.v1.ListCrimeTypesRequest",
        // The same fields as ConfirmCasualtyMatchRequest, parsed by the same function.
        ".docket.cases.v1.RejectCasualtyMatchRequest",
        ".docket.cases.v1.UndoCasualtyMatchRequest",
        // A case id alone, parsed as ListChargesRequest's is.
        ".docket.cases.v1.ListEvidenceRequest",
    ],
}
