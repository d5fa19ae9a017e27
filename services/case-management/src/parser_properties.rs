//! Parsing never panics and never lets bad data through: every request case management parses, built
//! from generated choices (hostile strings, extreme numbers, far dates, unknown enum numbers)
//! and taken as arbitrary bytes, comes out as a domain value every database can store or as
//! violations that name their fields. The inputs the fuzz target found (`fuzz/regressions`)
//! are replayed here on stable.
//!
//! The number of cases is fixed with a fixed seed; `PROPTEST_CASES=100000` runs more with a
//! random seed (`PROPTEST_RNG_0x0d0c_6e7a_0000_0004` repeats one).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: failing loudly is their job

use std::path::Path;

use docket_proto::generate::{self, check_fuzz_input, check_generated, check_raw, kept_inputs};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use crate::parsers::PARSERS;

/// A bounded run with a fixed seed, unless `PROPTEST_CASES` asks for a longer one.
fn config() -> Config {
    let mut config = Config {
        failure_persistence: None,
        max_shrink_iters: 20_000,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 3_000;
        config.rng_seed = RngSeed::Fixed(0x0d0c_6e7a_0000_0004);
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_generated_request_parses_to_a_storable_value_or_named_violations(
        index in 0..PARSERS.len(),
        choices in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let outcome = check_generated(PARSERS, index, &choices);
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }

    #[test]
    fn any_bytes_as_any_request_are_refused_or_parsed_and_never_panic(
        index in 0..PARSERS.len(),
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let outcome = check_raw(PARSERS, index, &bytes);
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}

/// Requests of the service with no parser of their own here, and why.
const NOT_PARSED: &[&str] = &[
    // No fields.
    ".docket.cases.v1.ListCrimeTypesRequest",
    // The same fields as ConfirmCasualtyMatchRequest, parsed by the same function.
    ".docket.cases.v1.RejectCasualtyMatchRequest",
    ".docket.cases.v1.UndoCasualtyMatchRequest",
    // A case id alone, parsed as ListChargesRequest's is.
    ".docket.cases.v1.ListEvidenceRequest",
];

#[test]
fn every_request_of_the_service_has_a_parser_here() {
    for (name, _) in PARSERS {
        assert!(generate::knows(name), "{name}");
    }
    for name in generate::request_messages("docket.cases.v1.CaseService") {
        assert!(
            PARSERS.iter().any(|(parsed, _)| *parsed == name)
                || NOT_PARSED.contains(&name.as_str()),
            "{name} has no parser in PARSERS"
        );
    }
}

#[test]
fn the_inputs_the_fuzz_target_found_still_pass() {
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    for (path, input) in kept_inputs(&kept) {
        if let Some(Err(problem)) = check_fuzz_input(1, PARSERS, &input) {
            panic!("{}: {problem}", path.display());
        }
    }
}
