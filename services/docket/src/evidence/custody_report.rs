//! `docket evidence custody-report ID --out FILE` writes an item's signed custody report, for
//! disclosure; `docket evidence verify-report FILE` checks one offline, with nothing but the
//! file (and the office's published public key, to know whose signature it is).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use docket_platform::Settings;
use docket_platform::auth::Role;
use docket_platform::signed_file;
use docket_proto::docket::intake::v1 as pb;

use super::Connection;
use super::client::{Target, failed};

/// The report's `format`, as intake writes it.
const FORMAT: &str = "docket.custody-report.v1";

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The evidence whose custody to report (its UUID).
    evidence_id: String,
    /// Where to write the signed report (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The report file.
    file: PathBuf,
    /// The office's published public key (base64). Without it, the file is only checked
    /// against the key it carries, which proves it unaltered, not whose it is.
    #[arg(long)]
    public_key: Option<String>,
}

pub async fn export(settings: &Settings, args: ExportArgs) -> anyhow::Result<()> {
    // A development token, when none is given, of a role that may disclose.
    let target = Target::new_as(settings, &args.connection, Role::Supervisor)?;
    let answer = target
        .client()
        .export_custody_report(pb::ExportCustodyReportRequest {
            evidence_id: args.evidence_id.clone(),
        })
        .await
        .map_err(|status| failed(&target.url, &status))?
        .into_inner();
    // Never write a report that would not verify.
    signed_file::verify(&answer.report, Some(&answer.public_key))
        .context("intake answered a report that does not verify")?;
    std::fs::write(&args.out, &answer.report)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "custody report of {} written to {}: signed by {}, report SHA-256 {}",
        args.evidence_id,
        args.out.display(),
        answer.public_key,
        answer.document_sha256
    );
    Ok(())
}

pub fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let verified = signed_file::verify(&bytes, args.public_key.as_deref())
        .with_context(|| format!("{} does not verify", args.file.display()))?;
    let document: serde_json::Value = serde_json::from_slice(&verified.document)
        .with_context(|| format!("{} holds no JSON report", args.file.display()))?;
    if document["format"] != FORMAT {
        anyhow::bail!(
            "{} is signed but is not a custody report ({FORMAT})",
            args.file.display()
        );
    }
    println!(
        "custody report of evidence {} (SHA-256 {}) verified: {} custody events, signed by {}{}, \
         report SHA-256 {}",
        document["evidence"]["id"].as_str().unwrap_or_default(),
        document["evidence"]["sha256"].as_str().unwrap_or_default(),
        document["custody_events"].as_array().map_or(0, Vec::len),
        verified.public_key,
        if args.public_key.is_some() {
            " (the expected key)"
        } else {
            " (compare with the office's published key)"
        },
        verified.document_sha256
    );
    Ok(())
}
