//! `docket report` against a running `docket serve`, as an operator would use it: the public
//! report by default, the internal one on request, a file anyone can open either way.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `docket serve`, stopped when dropped.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `docket serve` on free ports over `data`; returns the process and reporting's address.
fn serve(data: &Path) -> (Serving, String) {
    let mut child = Serving(
        Command::new(env!("CARGO_BIN_EXE_docket"))
            .arg("serve")
            .env("DOCKET__DATA_DIR", data)
            .env("DOCKET__INTAKE__LISTEN", "127.0.0.1:0")
            .env("DOCKET__CASE_MANAGEMENT__LISTEN", "127.0.0.1:0")
            .env("DOCKET__REPORTING__LISTEN", "127.0.0.1:0")
            .env("DOCKET__METRICS__LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // Keep draining after the address is known: a full pipe would block docket.
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("docket serve reports where reporting listens");
        if line.contains(" serving ") && field(&line, "service").as_deref() == Some("reporting") {
            let address = field(&line, "address").expect("the log line names the address");
            return (child, address);
        }
    }
}

/// The value of `key=value` in a log line, quotes removed.
fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("{key}="))? + key.len() + 1;
    let value = line[start..].split_whitespace().next()?;
    Some(value.trim_matches('"').to_owned())
}

fn report(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docket"))
        .arg("report")
        .args(args)
        .env("DOCKET__DATA_DIR", data)
        .output()
        .unwrap()
}

#[test]
fn docket_report_writes_the_report_for_either_audience() {
    let data = tempfile::tempdir().unwrap();
    let (_server, reporting) = serve(data.path());
    let url = format!("http://{reporting}");
    let public = data.path().join("report.html");
    let written = report(
        data.path(),
        &["--out", public.to_str().unwrap(), "--url", &url],
    );
    assert!(
        written.status.success(),
        "docket report failed: {written:?}"
    );
    let html = std::fs::read_to_string(&public).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("data-audience=\"public\""));
    assert!(html.contains("data-cell=\"totals/cases\"><span class=\"count\">0</span>"));

    let internal = data.path().join("internal.html");
    let written = report(
        data.path(),
        &[
            "--out",
            internal.to_str().unwrap(),
            "--audience",
            "internal",
            "--url",
            &url,
        ],
    );
    assert!(
        written.status.success(),
        "docket report failed: {written:?}"
    );
    assert!(
        std::fs::read_to_string(&internal)
            .unwrap()
            .contains("data-audience=\"internal\"")
    );

    // A token of the wrong role is refused, and nothing is written.
    let token_file = data.path().join("token");
    let minted = Command::new(env!("CARGO_BIN_EXE_docket"))
        .args(["token", "--role", "auditor", "--subject", "auditor.k"])
        .env("DOCKET__DATA_DIR", data.path())
        .output()
        .unwrap();
    std::fs::write(&token_file, &minted.stdout).unwrap();
    let refused_out = data.path().join("refused.html");
    let refused = report(
        data.path(),
        &[
            "--out",
            refused_out.to_str().unwrap(),
            "--url",
            &url,
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("PermissionDenied"));
    assert!(!refused_out.exists());
}
