//! The running binary driven by the real grpcurl, as an operator would: reflection, describe,
//! a submission good and bad, triage, health, and a clean stop on SIGTERM.
//!
//! Skipped when grpcurl is not on `PATH`, unless `DOCKET_TEST_REQUIRE_GRPCURL=1` (as in CI),
//! which makes a missing grpcurl a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use process::Server;

mod process;

fn grpcurl() -> Option<PathBuf> {
    tool("grpcurl", "DOCKET_TEST_REQUIRE_GRPCURL")
}

/// `name` on `PATH`; when it is missing, the test does not run, unless `require` is set to 1
/// (as in CI), which makes a missing tool a failure.
fn tool(name: &str, require: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var(require).as_deref() != Ok("1"),
            "{require}=1 but {name} is not on PATH"
        );
        eprintln!("{name} is not on PATH: the test does not run");
    }
    found
}

/// The string value of the first `"key": "value"` in grpcurl's JSON output.
fn json_string(output: &str, key: &str) -> String {
    let marker = format!("\"{key}\": \"");
    let start = output
        .find(&marker)
        .unwrap_or_else(|| panic!("no {key} in {output}"))
        + marker.len();
    output[start..].split('"').next().unwrap().to_owned()
}

fn run(grpcurl: &Path, token: &str, args: &[&str], data: Option<&str>) -> Output {
    let mut command = Command::new(grpcurl);
    command.arg("-plaintext");
    if !token.is_empty() {
        command.args(["-H", &format!("authorization: Bearer {token}")]);
    }
    if let Some(data) = data {
        command.args(["-d", data]);
    }
    command.args(args);
    let output = command.output().unwrap();
    eprintln!(
        "grpcurl {args:?}\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn ok(grpcurl: &Path, token: &str, args: &[&str], data: Option<&str>) -> String {
    let output = run(grpcurl, token, args, data);
    assert!(output.status.success(), "grpcurl {args:?} failed");
    String::from_utf8(output.stdout).unwrap()
}

const SUBMISSION: &str = r#"{
  "request_id": "grpcurl-test-1",
  "allegation": {
    "channel": "CHANNEL_HOTLINE",
    "source": {"anonymous": true},
    "narrative": "Video shows soldiers executing two bound prisoners of war.",
    "language": "hy",
    "incident_period": {"start_time": "2020-10-15T00:00:00Z", "precision": "TIME_PRECISION_DAY"},
    "location": {"place_name": "Hadrut", "precision": "LOCATION_PRECISION_SETTLEMENT"},
    "violation_types": ["VIOLATION_TYPE_KILLING"],
    "alleged_perpetrators": [{"party_code": "AZ"}],
    "victims": [{"count": 2, "status": "VICTIM_STATUS_PRISONER_OF_WAR", "harm": "HARM_KILLED",
                 "age_group": "AGE_GROUP_ADULT", "sex": "SEX_MALE"}],
    "source_urls": ["https://example.org/video/123"]
  }
}"#;

#[test]
fn an_operator_drives_docket_with_grpcurl() {
    let Some(grpcurl) = grpcurl() else { return };
    let server = Server::start();
    let intake = server.intake().to_owned();
    let officer = server.token("intake_officer", "officer.aliyev");

    let services = ok(&grpcurl, "", &[&intake, "list"], None);
    for service in [
        "docket.intake.v1.IntakeService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(
            services.contains(service),
            "{service} missing from {services}"
        );
    }
    let described = ok(
        &grpcurl,
        "",
        &[&intake, "describe", "docket.intake.v1.IntakeService"],
        None,
    );
    assert!(described.contains("rpc SubmitAllegation"));
    assert!(
        described.contains("Idempotent by `request_id`"),
        "proto comments reach the operator"
    );
    let message = ok(
        &grpcurl,
        "",
        &[&intake, "describe", "docket.intake.v1.Allegation"],
        None,
    );
    assert!(message.contains("ALG-YYYY-NNNNNN"));

    let submitted = ok(
        &grpcurl,
        &officer,
        &[&intake, "docket.intake.v1.IntakeService/SubmitAllegation"],
        Some(SUBMISSION),
    );
    let id = json_string(&submitted, "id");
    assert!(json_string(&submitted, "reference").starts_with("ALG-"));
    assert!(!json_string(&submitted, "receipt").is_empty());

    let by_id = format!(r#"{{"id": "{id}"}}"#);
    let fetched = ok(
        &grpcurl,
        &officer,
        &[&intake, "docket.intake.v1.IntakeService/GetAllegation"],
        Some(&by_id),
    );
    assert!(fetched.contains("ALLEGATION_STATUS_RECEIVED"));
    let listed = ok(
        &grpcurl,
        &officer,
        &[&intake, "docket.intake.v1.IntakeService/ListAllegations"],
        Some("{}"),
    );
    assert!(listed.contains(&id));
    let accepted = ok(
        &grpcurl,
        &officer,
        &[&intake, "docket.intake.v1.IntakeService/AcceptAllegation"],
        Some(&by_id),
    );
    assert!(accepted.contains("ALLEGATION_STATUS_ACCEPTED"));

    // A bad submission: the operator sees the code and each bad field, decoded.
    let bad = run(
        &grpcurl,
        &officer,
        &[&intake, "docket.intake.v1.IntakeService/SubmitAllegation"],
        Some(r#"{"request_id": "grpcurl-test-2", "allegation": {"narrative": ""}}"#),
    );
    assert!(!bad.status.success());
    let said =
        String::from_utf8_lossy(&bad.stderr).into_owned() + &String::from_utf8_lossy(&bad.stdout);
    assert!(said.contains("InvalidArgument"), "{said}");
    assert!(said.contains("google.rpc.BadRequest"), "{said}");
    assert!(said.contains("allegation.narrative"), "{said}");

    // No token, no answer; the anonymous status check needs none.
    let refused = run(
        &grpcurl,
        "",
        &[&intake, "docket.intake.v1.IntakeService/ListAllegations"],
        Some("{}"),
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Unauthenticated"));
    let receipt = json_string(&submitted, "receipt");
    let status = ok(
        &grpcurl,
        "",
        &[
            &intake,
            "docket.intake.v1.IntakeService/CheckAllegationStatus",
        ],
        Some(&format!(r#"{{"receipt": "{receipt}"}}"#)),
    );
    assert!(status.contains("ALLEGATION_STATUS_ACCEPTED"), "{status}");

    for address in server.addresses.values() {
        let health = ok(
            &grpcurl,
            "",
            &[address, "grpc.health.v1.Health/Check"],
            None,
        );
        assert!(health.contains("SERVING"), "{health}");
    }

    // Every call was counted, with its method and code, and timed.
    let metrics = server.scrape();
    for expected in [
        r#"method="/docket.intake.v1.IntakeService/SubmitAllegation""#,
        r#"code="INVALID_ARGUMENT""#,
        r#"code="UNAUTHENTICATED""#,
        "docket_rpc_duration_seconds_bucket",
    ] {
        assert!(
            metrics.contains(expected),
            "/metrics lacks {expected}:\n{metrics}"
        );
    }

    let status = server.terminate();
    assert!(
        status.success(),
        "docket exits cleanly on SIGTERM: {status:?}"
    );
}

/// What each service serves, listed and described whole by reflection, as an operator's first
/// look at a deployment: `grpcurl describe` with no argument and `buf curl --list-methods` ask
/// about every service listed, both versions of reflection among them.
#[test]
fn every_service_listed_by_reflection_can_be_described() {
    let Some(grpcurl) = grpcurl() else { return };
    let buf = tool("buf", "DOCKET_TEST_REQUIRE_BUF");
    let server = Server::start();
    for (service, address) in &server.addresses {
        let described = ok(&grpcurl, "", &[address, "describe"], None);
        for expected in [
            "grpc.reflection.v1.ServerReflection is a service",
            "grpc.reflection.v1alpha.ServerReflection is a service",
            "grpc.health.v1.Health is a service",
            "docket.audit.v1.AuditService is a service",
        ] {
            assert!(
                described.contains(expected),
                "{service}: `describe` lacks {expected}"
            );
        }
        let Some(buf) = &buf else { continue };
        let listed = Command::new(buf)
            .args(["curl", "--protocol", "grpc", "--http2-prior-knowledge"])
            .args(["--list-methods", &format!("http://{address}")])
            .output()
            .unwrap();
        let methods = String::from_utf8_lossy(&listed.stdout);
        assert!(
            listed.status.success(),
            "{service}: buf curl --list-methods failed: {}",
            String::from_utf8_lossy(&listed.stderr)
        );
        assert!(
            methods.contains("docket.audit.v1.AuditService/VerifyAuditChain"),
            "{service}: buf curl listed {methods}"
        );
    }
    assert!(server.terminate().success());
}

/// The grpcurl session of the README, pasted as it stands (only the ports are this run's).
fn readme_session() -> String {
    let readme = include_str!("../../../README.md");
    let start = readme
        .find("## A grpcurl session")
        .expect("the README has a grpcurl session");
    let block = &readme[start..];
    let body = &block[block.find("```sh\n").expect("a sh block") + 6..];
    body[..body.find("```").expect("the block ends")].to_owned()
}

#[test]
fn the_readme_grpcurl_session_works_as_written() {
    let Some(grpcurl) = grpcurl() else { return };
    // The session takes ids from the answers with jq, and lists methods with buf curl.
    let Some(_) = tool("jq", "DOCKET_TEST_REQUIRE_GRPCURL") else {
        return;
    };
    let buf = tool("buf", "DOCKET_TEST_REQUIRE_BUF");
    let server = Server::start();
    let mut script = readme_session().replace(
        "cargo run --release -q -p docket --",
        env!("CARGO_BIN_EXE_docket"),
    );
    for (service, default) in [
        ("intake", "127.0.0.1:50051"),
        ("case-management", "127.0.0.1:50052"),
        ("reporting", "127.0.0.1:50053"),
    ] {
        script = script.replace(default, &server.addresses[service]);
    }
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(dir) = grpcurl.parent() {
        path = std::env::join_paths(
            std::iter::once(dir.to_owned()).chain(std::env::split_paths(&path)),
        )
        .unwrap();
    }
    let output = Command::new("bash")
        .args(["-c", &script])
        .env("PATH", path)
        .env("DOCKET__DATA_DIR", &server.data_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}\n{stderr}");
    for expected in [
        "docket.intake.v1.IntakeService",
        "\"reference\": \"ALG-",
        "\"reviewedBy\": \"officer.aliyev\"",
        "ALLEGATION_STATUS_ACCEPTED",
        "\"status\": \"SERVING\"",
        "\"name\": \"Leyla Mammadova\"",
        "\"action\": \"submit allegation\"",
        "\"newValue\": \"At about 02:30 rockets hit",
        "\"intact\": true",
        "\"firstBrokenSequence\": \"0\"",
        "\"totalSize\": \"1\"",
        "\\u003cb\\u003eShahriyar\\u003c/b\\u003e",
        "\"candidates\": [",
        // The dossier of the case the accepted allegation opened, found by its reference.
        "\"reference\": \"CASE-",
        "\"allegationIds\": [",
    ] {
        assert!(
            stdout.contains(expected),
            "the README session printed no {expected}"
        );
    }
    if buf.is_some() {
        assert!(
            stdout.contains("docket.reporting.v1.ReportingService/CreateRelease"),
            "buf curl lists reporting's methods"
        );
    }
    assert!(
        stderr.contains("Code: InvalidArgument"),
        "the bad submission is refused"
    );
    assert!(stderr.contains("allegation.narrative"));
    assert_eq!(
        stderr.matches("ERROR:").count(),
        1,
        "only the bad submission fails"
    );
    assert!(server.terminate().success());
}
