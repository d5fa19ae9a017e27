//! Parsing never panics and never lets bad data through, for every request reporting parses
//! (see `docket_proto::parser_properties!`), and the counter-examples the properties found.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: failing loudly is their job

docket_proto::parser_properties! {
    service: "docket.reporting.v1.ReportingService",
    fuzz_service: 2,
    seed: 0x0d0c_6e7a_0000_0005,
    parsers: crate::parsers::PARSERS,
    not_parsed: [
        // No fields.
        ".docket.reporting.v1.GetProjectionStatusRequest",
        ".docket.reporting.v1.ListReleasesRequest",
    ],
}

/// Counter-examples the properties found, each a fixed bug.
mod found {
    use docket_proto::docket::reporting::v1 as pb;

    use crate::release::service::parse_title;

    /// A title holding U+0001 was accepted, and with a NUL PostgreSQL would refuse to store it
    /// (an INTERNAL answer after the release was computed).
    #[test]
    fn a_release_title_with_a_control_character_is_refused() {
        for title in ["\u{1}", "Quarter\0 one", "Q1 \u{1b}[31m"] {
            let request = pb::CreateReleaseRequest {
                title: title.into(),
            };
            let refused = parse_title(&request.title).unwrap_err();
            assert_eq!(refused.iter().next().unwrap().field, "title");
        }
        assert_eq!(parse_title("  Quarter one\t2021 "), Ok("Quarter one\t2021"));
    }

    fn party_filter(value: &str) -> Vec<pb::Filter> {
        vec![pb::Filter {
            dimension: pb::Dimension::Party.into(),
            values: vec![value.into()],
        }]
    }

    /// A filter value holding a NUL was accepted and bound into the query, which PostgreSQL
    /// refuses (an INTERNAL answer); the same for an export's filters.
    #[test]
    fn a_filter_value_with_a_control_character_is_refused() {
        for value in ["A\0", "AM\u{1}"] {
            let statistics = crate::statistics::parse(pb::QueryStatisticsRequest {
                measure: pb::Measure::Cases.into(),
                audience: pb::Audience::Internal.into(),
                filters: party_filter(value),
                ..Default::default()
            })
            .unwrap_err();
            assert_eq!(
                statistics.iter().next().unwrap().field,
                "filters[0].values[0]"
            );
            let export = crate::export::parse(pb::ExportCasesRequest {
                format: pb::ExportFormat::Csv.into(),
                audience: pb::Audience::Internal.into(),
                filters: party_filter(value),
            })
            .unwrap_err();
            assert_eq!(export.iter().next().unwrap().field, "filters[0].values[0]");
        }
    }
}
