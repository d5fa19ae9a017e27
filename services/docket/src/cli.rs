//! The command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use docket_platform::auth::{Role, TokenIssuer};
use docket_platform::{ServiceKind, Settings};

/// Docket: allegations of war crimes and other serious violations, from the first report to
/// cases, charges and published statistics.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// A TOML settings file, read after the built-in defaults and before `DOCKET__…` variables.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs all three services in this process, or the one named.
    Serve {
        /// The one service to run; all three when left out.
        service: Option<Service>,
    },
    /// Applies the pending database migrations of all three services, or of the one named, and
    /// exits. Services also migrate at start-up; run this first when several replicas start at
    /// once (a Kubernetes Job or init container).
    Migrate {
        /// The one service to migrate; all three when left out.
        service: Option<Service>,
        /// How long to keep trying while a database cannot be reached (at first start a
        /// PostgreSQL container may take a while to accept connections); 0: try once.
        #[arg(long, default_value_t = 60)]
        wait_seconds: u64,
    },
    /// Asks a running service's health (grpc.health.v1) and exits 0 only if it is SERVING: for
    /// container healthchecks. Asks its plaintext `health_listen` if set, else its listener.
    Health {
        /// The service to ask; all three (as `docket serve` runs them) when left out.
        service: Option<Service>,
        /// Where to ask instead (host:port, or a URL).
        #[arg(long)]
        address: Option<String>,
        /// How long to wait for a connection and an answer.
        #[arg(long, default_value = "3s", value_parser = parse_ttl)]
        timeout: Duration,
    },
    /// Measures the services against a bare tonic baseline on this machine (see
    /// docs/BENCHMARKS.md).
    Bench(crate::bench::BenchArgs),
    /// Writes the rendered statistics report (one self-contained HTML file) fetched from
    /// reporting.
    Report(crate::report::ReportArgs),
    /// Works with published releases.
    #[command(subcommand)]
    Release(crate::release::ReleaseCommand),
    /// Copies the SQLite databases of a running deployment (each as of one moment, writers
    /// going on) and the evidence files they refer to into a backup repository, with a manifest
    /// of every file's SHA-256; evidence files already in the repository are not copied again.
    Backup(crate::backup::BackupArgs),
    /// Restores a snapshot of a backup repository into an empty data directory, after checking
    /// every file against the manifest: a missing or altered file refuses the restore.
    Restore(crate::backup::RestoreArgs),
    /// Exports or imports the keys a backup needs and does not hold (sealing, receipt, release
    /// signing and development token keys): encrypted to age recipients, or split among holders
    /// with a threshold.
    #[command(subcommand)]
    Keys(crate::keys::KeysCommand),
    /// Uploads or downloads an evidence file, resuming where an interrupted run stopped.
    #[command(subcommand)]
    Evidence(crate::evidence::EvidenceCommand),
    /// Prints a development token (HS256, signed with this deployment's development secret).
    Token {
        /// The role the token carries: intake_officer, analyst, investigator, prosecutor,
        /// supervisor, auditor, public_reporter or service.
        #[arg(long)]
        role: Role,
        /// Who the token is for, recorded in the audit log.
        #[arg(long)]
        subject: String,
        /// How long it is valid: a number with s, m, h or d, such as 30m or 8h.
        #[arg(long, default_value = "8h", value_parser = parse_ttl)]
        ttl: Duration,
    },
}

/// `30s`, `45m`, `8h`, `2d`.
fn parse_ttl(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("{text:?} is not a duration such as 30m, 8h or 2d")),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 30m, 8h or 2d"))?;
    match number.checked_mul(seconds_per_unit) {
        Some(0) | None => Err(format!("{text:?} must be more than zero and reasonable")),
        Some(seconds) => Ok(Duration::from_secs(seconds)),
    }
}

/// A service to run on its own.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Service {
    Intake,
    CaseManagement,
    Reporting,
}

impl From<Service> for ServiceKind {
    fn from(service: Service) -> Self {
        match service {
            Service::Intake => ServiceKind::Intake,
            Service::CaseManagement => ServiceKind::CaseManagement,
            Service::Reporting => ServiceKind::Reporting,
        }
    }
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = Settings::load(self.config.as_deref())?;
        // A benchmark logs only problems: a line per call would be measured too.
        let filter = match self.command {
            Command::Bench(_) => "warn",
            Command::Serve { .. }
            | Command::Token { .. }
            | Command::Migrate { .. }
            | Command::Report(_)
            | Command::Release(_)
            | Command::Backup(_)
            | Command::Restore(_)
            | Command::Keys(_) => settings.log.filter.as_str(),
            // The command speaks for itself on stderr; logs only for problems.
            Command::Evidence(_) | Command::Health { .. } => "warn",
        };
        // Each service run alone is a service of its own in the traces; all three in one
        // process are `docket`.
        let service_name = if let Command::Serve {
            service: Some(service),
        } = &self.command
        {
            format!("docket-{}", ServiceKind::from(*service).name())
        } else {
            "docket".to_owned()
        };
        let telemetry = docket_platform::telemetry::init(
            filter,
            settings.log.format,
            settings.traces.otlp_endpoint.as_deref(),
            &service_name,
        )?;
        let outcome = self.execute(&settings).await;
        telemetry.shutdown().await;
        outcome
    }

    async fn execute(self, settings: &Settings) -> anyhow::Result<()> {
        match self.command {
            Command::Serve { service } => {
                let kinds = match service {
                    Some(service) => vec![service.into()],
                    None => ServiceKind::ALL.to_vec(),
                };
                crate::serve::run(settings, &kinds).await
            }
            Command::Bench(args) => crate::bench::run(args).await,
            Command::Report(args) => crate::report::run(settings, args).await,
            Command::Release(command) => crate::release::run(settings, command).await,
            Command::Backup(args) => crate::backup::backup(settings, args).await,
            Command::Restore(args) => crate::backup::restore(settings, args).await,
            Command::Keys(command) => crate::keys::run(settings, command),
            Command::Evidence(command) => crate::evidence::run(settings, command).await,
            Command::Migrate {
                service,
                wait_seconds,
            } => {
                let kinds = match service {
                    Some(service) => vec![service.into()],
                    None => ServiceKind::ALL.to_vec(),
                };
                let wait = std::time::Duration::from_secs(wait_seconds);
                crate::serve::migrate(settings, &kinds, wait).await
            }
            Command::Health {
                service,
                address,
                timeout,
            } => {
                let kinds = match service {
                    Some(service) => vec![service.into()],
                    None => ServiceKind::ALL.to_vec(),
                };
                for kind in kinds {
                    crate::health::check(settings, kind, address.clone(), timeout).await?;
                }
                Ok(())
            }
            Command::Token { role, subject, ttl } => {
                let token = TokenIssuer::development(settings)?.mint(&subject, role, ttl)?;
                println!("{token}");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_read_as_operators_write_them() {
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_ttl("8h"), Ok(Duration::from_secs(28_800)));
        assert_eq!(parse_ttl("2d"), Ok(Duration::from_secs(172_800)));
        for bad in ["", "h", "8", "8w", "-1h", "0m", "99999999999999999999d"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
