//! Logs as an operator's collector reads them: with `log.format = "json"`, every line the
//! binary writes is one JSON object.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn migrate_logging(format: &str) -> String {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_docket"))
        .arg("migrate")
        .env("DOCKET__DATA_DIR", data.path())
        .env("DOCKET__LOG__FORMAT", format)
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(output.status.success(), "docket migrate failed: {output:?}");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn json_logs_are_one_object_per_line_with_the_fields_at_the_top() {
    let logs = migrate_logging("json");
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let migrated: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line["message"] == "migrated")
        .collect();
    assert_eq!(migrated.len(), 3, "a line per service: {logs}");
    assert!(migrated.iter().all(|line| line["level"] == "INFO"
        && line["service"].is_string()
        && line["timestamp"].is_string()));
}

#[test]
fn text_logs_are_the_default_and_human_readable() {
    let logs = migrate_logging("text");
    assert!(
        logs.lines()
            .any(|line| line.contains("INFO") && line.contains("migrated"))
    );
    assert!(
        logs.lines()
            .all(|line| serde_json::from_str::<serde_json::Value>(line).is_err())
    );
}
