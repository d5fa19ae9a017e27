//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
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
        docket_platform::telemetry::init(&settings.log.filter);
        match self.command {
            Command::Serve { service } => {
                let kinds = match service {
                    Some(service) => vec![service.into()],
                    None => ServiceKind::ALL.to_vec(),
                };
                crate::serve::run(&settings, &kinds).await
            }
        }
    }
}
