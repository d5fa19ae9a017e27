//! `docket release verify FILE` checks a published release offline; `docket release render
//! FILE` turns it into the public report, offline too; `docket release reproduce FILE` has a
//! running reporting recompute it and compares the two byte for byte.

mod reproduce;

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use docket_platform::Settings;
use docket_reporting::release::document;
use docket_reporting::report::published;

/// What `docket release` does.
#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Checks a release file (from `ExportRelease`) offline: its Ed25519 signature over the
    /// document, and, with `--public-key`, that the office's key made it. Exits non-zero when
    /// it does not verify.
    Verify {
        /// The release file.
        file: PathBuf,
        /// The office's published public key (base64). Without it, the file is only checked
        /// against the key it carries, which proves it unaltered, not whose it is.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Renders a release file as the office's public report, offline, after verifying it: an
    /// HTML document, and with Chromium installed a PDF (A4, its print layout) or a screenshot.
    Render {
        /// The release file.
        file: PathBuf,
        /// The office's published public key (base64), checked as by `verify`.
        #[arg(long)]
        public_key: Option<String>,
        /// Where to write the HTML report.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Also print it to this PDF with headless Chromium.
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
        /// Also take a PNG screenshot of its first page-height with headless Chromium.
        #[arg(long, value_name = "FILE")]
        screenshot: Option<PathBuf>,
    },
    /// Verifies a release file offline, then asks a running reporting (`ReproduceRelease`) to
    /// recompute it at the stream positions it records and sign it again, and compares the
    /// two byte for byte. Prints where they first differ and exits non-zero when they do.
    Reproduce(reproduce::ReproduceArgs),
}

pub async fn run(settings: &Settings, command: ReleaseCommand) -> anyhow::Result<()> {
    match command {
        ReleaseCommand::Reproduce(args) => reproduce::run(settings, args).await,
        ReleaseCommand::Verify { file, public_key } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let verified = document::verify(&bytes, public_key.as_deref())
                .with_context(|| format!("{} does not verify", file.display()))?;
            println!(
                "release {} \"{}\" verified: signed by {}{}, document SHA-256 {}, {} tables",
                verified.document.number,
                verified.document.title,
                verified.public_key,
                if public_key.is_some() {
                    " (the expected key)"
                } else {
                    " (compare with the office's published key)"
                },
                verified.document_sha256,
                verified.document.tables.len()
            );
            Ok(())
        }
        ReleaseCommand::Render {
            file,
            public_key,
            out,
            pdf,
            screenshot,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let verified = document::verify(&bytes, public_key.as_deref())
                .with_context(|| format!("{} does not verify", file.display()))?;
            let html = published::document(&published::Signed {
                document: &verified.document,
                document_sha256: &verified.document_sha256,
                public_key: &verified.public_key,
            });
            crate::report::publish(&html, &out, pdf.as_deref(), screenshot.as_deref())
        }
    }
}
