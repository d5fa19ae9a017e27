//! Any bytes, as any request message of any service, decoded and parsed as the service does:
//! either refused, or a domain value every database can store, or violations naming fields —
//! never a panic. The first byte picks the service, the second the request message, the third
//! whether the rest is the message's bytes as they come or the choices that build a
//! structurally valid one with hostile values (`docket_proto::generate`).

#![no_main]

use docket_proto::generate::check_fuzz_input;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let services = [
        (0, docket_intake::parsers::PARSERS),
        (1, docket_case_management::parsers::PARSERS),
        (2, docket_reporting::parsers::PARSERS),
    ];
    for (service, parsers) in services {
        if let Some(Err(problem)) = check_fuzz_input(service, parsers, input) {
            panic!("{problem}");
        }
    }
});
