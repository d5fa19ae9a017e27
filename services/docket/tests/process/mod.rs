//! `docket serve` as a child process, as the tests that drive the real binary start it: on free
//! ports, its bound addresses read from its log, stopped with SIGTERM.

#![allow(dead_code)] // each test binary uses its own part of it

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `docket serve` on free ports.
pub struct Server {
    pub data_dir: PathBuf,
    pub metrics: String,
    child: Child,
    pub addresses: HashMap<String, String>,
    _data: Option<tempfile::TempDir>,
}

impl Server {
    /// Over a fresh data directory, removed when the server is dropped.
    pub fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut server = Self::start_in(data.path(), &[]);
        server._data = Some(data);
        server
    }

    /// Over `data_dir`, which outlives it (to start again on the same data), with `env` added
    /// to its environment.
    pub fn start_in(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        let metrics = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_docket"))
            .arg("serve")
            .env("DOCKET__METRICS__LISTEN", &metrics)
            .env("DOCKET__DATA_DIR", data_dir)
            .env("DOCKET__INTAKE__LISTEN", "127.0.0.1:0")
            .env("DOCKET__CASE_MANAGEMENT__LISTEN", "127.0.0.1:0")
            .env("DOCKET__REPORTING__LISTEN", "127.0.0.1:0")
            .env("DOCKET__SHUTDOWN_GRACE_SECONDS", "5")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The bound addresses come from the log, line by line, as the services report them.
        let stderr = child.stderr.take().unwrap();
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("docket: {line}");
                // Keep draining after the addresses are known: a full pipe would block docket.
                let _ = lines.send(line);
            }
        });
        let mut addresses = HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while addresses.len() < 3 {
            let line = received
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("docket serve reports its three addresses");
            if let (Some(service), Some(address)) =
                (field(&line, "service"), field(&line, "address"))
                && line.contains(" serving ")
            {
                addresses.insert(service, address);
            }
        }
        Self {
            data_dir: data_dir.to_owned(),
            metrics,
            child,
            addresses,
            _data: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The text of `/metrics`.
    pub fn scrape(&self) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.metrics).unwrap();
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.metrics
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    }

    /// A token minted by `docket token` for this server's deployment.
    pub fn token(&self, role: &str, subject: &str) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_docket"))
            .args([
                "token",
                "--role",
                role,
                "--subject",
                subject,
                "--ttl",
                "10m",
            ])
            .env("DOCKET__DATA_DIR", &self.data_dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "docket token failed: {output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    pub fn intake(&self) -> &str {
        &self.addresses["intake"]
    }

    /// Sends SIGTERM without waiting.
    pub fn signal_terminate(&self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "docket did not stop within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process with SIGKILL (`kill -9`: nothing is finished, flushed or released)
    /// and waits for it.
    pub fn kill9(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-KILL", &pid])
                .status()
                .unwrap()
                .success()
        );
        self.wait(Duration::from_secs(15))
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        self.signal_terminate();
        self.wait(Duration::from_secs(15))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of `key=value` in a log line, quotes removed.
pub fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("{key}="))? + key.len() + 1;
    let value = line[start..].split_whitespace().next()?;
    Some(value.trim_matches('"').to_owned())
}
