//! `docket evidence upload` and `download`: moving large files from a terminal over links that
//! break. An upload goes through a resumable session (`StartUpload`, `WriteUpload`,
//! `GetUploadStatus`) and a download asks for the bytes it lacks (`DownloadEvidence` with an
//! offset); both retry on a dropped connection, resume where a killed run stopped, and check
//! the file's SHA-256 at the end. `custody-report` exports an item's signed custody report, and
//! `verify-report` checks one offline.

mod client;
mod custody_report;
mod download;
mod progress;
mod upload;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use docket_platform::Settings;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// Evidence files in and out of intake.
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Uploads a file to an allegation (`--allegation`), or registers it directly to a case
    /// (`--case`), through a resumable session; run it again after an interruption and it goes
    /// on from what intake already holds. Prints the evidence id.
    Upload(upload::UploadArgs),
    /// Downloads an evidence file into `--out`, through `OUT.partial`; run it again after an
    /// interruption and it asks only for the bytes it lacks. The SHA-256 is checked at the end.
    Download(download::DownloadArgs),
    /// Exports an item's signed custody report (`ExportCustodyReport`) into `--out`: its custody
    /// events in the order they happened, hash, trusted timestamp, verdicts and cases, signed
    /// with the office's key. The file is checked before it is written.
    CustodyReport(custody_report::ExportArgs),
    /// Checks a custody report offline: its Ed25519 signature over the report, and, with
    /// `--public-key`, that the office's key made it. Exits non-zero when it does not verify.
    VerifyReport(custody_report::VerifyArgs),
}

pub async fn run(settings: &Settings, command: EvidenceCommand) -> anyhow::Result<()> {
    match command {
        EvidenceCommand::Upload(args) => upload::run(settings, args).await,
        EvidenceCommand::Download(args) => download::run(settings, args).await,
        EvidenceCommand::CustodyReport(args) => custody_report::export(settings, args).await,
        EvidenceCommand::VerifyReport(args) => custody_report::verify(&args),
    }
}

/// The SHA-256 of the file at `path` (lower-case hex), read in 1 MiB pieces.
async fn hash_file(path: &Path, progress: &progress::Progress) -> anyhow::Result<String> {
    let mut file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let read = file
            .read(&mut buffer)
            .await
            .with_context(|| format!("cannot read {}", path.display()))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        progress.advance(read as u64);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// `path` with `suffix` added to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Connection settings shared by both commands.
#[derive(Debug, Args)]
pub struct Connection {
    /// Intake's URL, such as http://127.0.0.1:50051; by default the `intake.url` setting.
    #[arg(long, alias = "url", value_name = "URL")]
    server: Option<String>,
    /// The bearer token to send (for example one printed by `docket token`).
    #[arg(long)]
    token: Option<String>,
    /// A file holding the bearer token, instead of `--token`. Without either, a development
    /// deployment mints an hour's `intake_officer` token for subject `docket-evidence`.
    #[arg(long, value_name = "FILE", conflicts_with = "token")]
    token_file: Option<PathBuf>,
}
