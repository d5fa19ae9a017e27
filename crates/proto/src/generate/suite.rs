//! The parsing properties every service runs over its own parsers, written once: see
//! [`parser_properties!`](crate::parser_properties).

/// Defines, in the module it is called in, the tests that parsing never panics and never lets
/// bad data through, for the parsers of one service:
///
/// - every request the service parses, built from generated choices (hostile strings, extreme
///   numbers, far dates, unknown enum numbers) and taken as arbitrary bytes, comes out as a
///   domain value every database can store or as violations that name their fields;
/// - every request message of the service has a parser in the table, or is named in
///   `not_parsed` with the reason beside it;
/// - the inputs the fuzz target found (`fuzz/regressions`) still pass, on stable.
///
/// The number of cases is fixed with a fixed `seed`; `PROPTEST_CASES=100000` runs more with a
/// random seed (`PROPTEST_RNG_<seed>` repeats one). The calling crate needs `proptest` among its
/// dev-dependencies.
#[macro_export]
macro_rules! parser_properties {
    (
        service: $service:literal,
        fuzz_service: $fuzz_service:literal,
        seed: $seed:literal,
        parsers: $parsers:path,
        not_parsed: [$($not_parsed:literal),* $(,)?] $(,)?
    ) => {
        use ::proptest::prelude::*;
        use $crate::generate::{check_fuzz_input, check_generated, check_raw, kept_inputs};

        /// A bounded run with a fixed seed, unless `PROPTEST_CASES` asks for a longer one.
        fn config() -> ::proptest::test_runner::Config {
            let mut config = ::proptest::test_runner::Config {
                failure_persistence: None,
                max_shrink_iters: 20_000,
                ..::proptest::test_runner::Config::default()
            };
            if ::std::env::var_os("PROPTEST_CASES").is_none() {
                config.cases = 3_000;
                config.rng_seed = ::proptest::test_runner::RngSeed::Fixed($seed);
            }
            config
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn every_generated_request_parses_to_a_storable_value_or_named_violations(
                index in 0..$parsers.len(),
                choices in ::proptest::collection::vec(any::<u8>(), 0..512),
            ) {
                let outcome = check_generated($parsers, index, &choices);
                prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
            }

            #[test]
            fn any_bytes_as_any_request_are_refused_or_parsed_and_never_panic(
                index in 0..$parsers.len(),
                bytes in ::proptest::collection::vec(any::<u8>(), 0..256),
            ) {
                let outcome = check_raw($parsers, index, &bytes);
                prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
            }
        }

        #[test]
        fn every_request_of_the_service_has_a_parser_here() {
            let not_parsed: &[&str] = &[$($not_parsed),*];
            for (name, _) in $parsers {
                assert!($crate::generate::knows(name), "{name}");
            }
            for name in $crate::generate::request_messages($service) {
                assert!(
                    $parsers.iter().any(|(parsed, _)| *parsed == name)
                        || not_parsed.contains(&name.as_str()),
                    "{name} has no parser in PARSERS"
                );
            }
        }

        #[test]
        fn the_inputs_the_fuzz_target_found_still_pass() {
            let kept = ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
            for (path, input) in kept_inputs(&kept) {
                if let Some(Err(problem)) = check_fuzz_input($fuzz_service, $parsers, &input) {
                    panic!("{}: {problem}", path.display());
                }
            }
        }
    };
}
