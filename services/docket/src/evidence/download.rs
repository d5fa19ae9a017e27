//! `docket evidence download ID --out FILE`: the bytes go to `FILE.partial`, asked for from
//! its size on (a resumed run, or a retry after a dropped connection), and the whole is checked
//! against the evidence's SHA-256 before it becomes `FILE`. Bytes that do not match are removed.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use docket_platform::Settings;
use docket_proto::docket::intake::v1 as pb;
use tokio::io::AsyncWriteExt;

use super::client::{Target, failed, worth_retrying};
use super::progress::Progress;
use super::{Connection, beside, hash_file};

/// Attempts in a row that moved no byte before giving up.
const MAX_FRUITLESS_ATTEMPTS: u32 = 8;

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The evidence to download (its UUID).
    evidence_id: String,
    /// Where to write the file (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    connection: Connection,
}

pub async fn run(settings: &Settings, args: DownloadArgs) -> anyhow::Result<()> {
    let target = Target::new(settings, &args.connection)?;
    let mut client = target.client();
    let evidence = client
        .get_evidence(pb::GetEvidenceRequest {
            evidence_id: args.evidence_id.clone(),
        })
        .await
        .map_err(|status| failed(&target.url, &status))?
        .into_inner()
        .evidence
        .context("intake answered without the evidence")?;
    let size = u64::try_from(evidence.size_bytes).unwrap_or_default();
    let partial = beside(&args.out, ".partial");
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&partial)
        .await
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let mut have = file.metadata().await?.len();
    if have > size {
        // Not a part of this file: start again.
        file.set_len(0).await?;
        have = 0;
    }
    let progress = Progress::new("downloading", size);
    let mut fruitless = 0u32;
    while have < size {
        progress.resume_at(have);
        let before = have;
        let outcome = receive(&mut client, &args.evidence_id, have, &mut file, &progress).await;
        file.flush().await?;
        have = file.metadata().await?.len();
        match outcome {
            Ok(()) if have >= size => {}
            Ok(()) => progress.note("the download ended short; resuming"),
            Err(status) if worth_retrying(&status) => {
                progress.note(&format!(
                    "the download broke off ({:?}: {}); resuming",
                    status.code(),
                    status.message()
                ));
            }
            Err(status) => return Err(failed(&target.url, &status)),
        }
        if have > before {
            fruitless = 0;
        } else {
            fruitless += 1;
            if fruitless > MAX_FRUITLESS_ATTEMPTS {
                bail!(
                    "no byte came in {MAX_FRUITLESS_ATTEMPTS} attempts; run the command again to resume"
                );
            }
            tokio::time::sleep(Duration::from_millis(250 * 2u64.pow(fruitless.min(6)))).await;
        }
    }
    file.sync_all().await?;
    drop(file);
    progress.finish();
    let checking = Progress::new("checking", size);
    let found = hash_file(&partial, &checking).await?;
    checking.finish();
    if found != evidence.sha256 {
        let _ = std::fs::remove_file(&partial);
        bail!(
            "the bytes received hash to {found}, not the evidence's {}: they were removed; \
             run the command again",
            evidence.sha256
        );
    }
    std::fs::rename(&partial, &args.out)
        .with_context(|| format!("cannot move the file to {}", args.out.display()))?;
    eprintln!(
        "downloaded evidence {} to {} ({} bytes, SHA-256 {} checked)",
        evidence.id,
        args.out.display(),
        size,
        evidence.sha256
    );
    Ok(())
}

/// Appends the file from `offset` on to `file`, until the stream ends or breaks.
async fn receive(
    client: &mut super::client::Client,
    evidence_id: &str,
    offset: u64,
    file: &mut tokio::fs::File,
    progress: &Progress,
) -> Result<(), tonic::Status> {
    let mut stream = client
        .download_evidence(pb::DownloadEvidenceRequest {
            evidence_id: evidence_id.to_owned(),
            offset: i64::try_from(offset).unwrap_or(i64::MAX),
            length: 0,
        })
        .await?
        .into_inner();
    while let Some(message) = stream.message().await? {
        file.write_all(&message.chunk)
            .await
            .map_err(|error| tonic::Status::internal(format!("cannot write: {error}")))?;
        progress.advance(message.chunk.len() as u64);
    }
    Ok(())
}
