//! The services under measurement, in a child process of their own (`docket serve`), so that
//! the memory measured is theirs and not the load generator's.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use docket_platform::{ServiceKind, Settings};

/// The three services running in a child process.
#[derive(Debug)]
pub struct Services {
    child: Child,
}

impl Services {
    /// Starts `docket serve` with `settings` (data directory, listeners, databases) and waits
    /// until every service accepts connections.
    pub async fn start(settings: &Settings) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find the docket binary")?;
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .env("DOCKET__DATA_DIR", &settings.data_dir)
            .env("DOCKET__LOG__FILTER", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        for kind in ServiceKind::ALL {
            let section = kind.name().replace('-', "_").to_uppercase();
            command
                .env(
                    format!("DOCKET__{section}__LISTEN"),
                    settings.listen(kind).to_string(),
                )
                .env(
                    format!("DOCKET__{section}__DATABASE_URL"),
                    settings.database_url(kind),
                );
        }
        let child = command.spawn().context("cannot start docket serve")?;
        let mut services = Self { child };
        for kind in ServiceKind::ALL {
            services.wait_for(settings.listen(kind)).await?;
        }
        Ok(services)
    }

    async fn wait_for(&mut self, addr: SocketAddr) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("docket serve exited with {status} before listening on {addr}");
            }
            if Instant::now() > deadline {
                bail!("docket serve did not listen on {addr} within a minute");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The child's peak resident memory so far, in MB.
    pub fn peak_memory_mb(&self) -> Option<f64> {
        peak_memory_mb(
            &Path::new("/proc")
                .join(self.child.id().to_string())
                .join("status"),
        )
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        // SIGKILL: the figures are taken, and every answer was committed before it came.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Peak resident memory (`VmHWM`) of the process whose `/proc/…/status` is `status`, in MB.
pub fn peak_memory_mb(status: &Path) -> Option<f64> {
    std::fs::read_to_string(status)
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map(|kb| kb / 1024.0)
}
