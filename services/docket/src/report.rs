//! `docket report`: asks reporting for its rendered report and writes it to a file, so that
//! an operator or the press office gets a document anyone can open without gRPC tools.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use docket_platform::auth::{Role, TokenIssuer};
use docket_platform::{Mode, ServiceKind, Settings};
use docket_proto::docket::reporting::v1 as pb;
use docket_proto::docket::reporting::v1::reporting_service_client::ReportingServiceClient;
use tonic::metadata::{Ascii, MetadataValue};

/// Reports hold every chart and table of the figures; far below this even with years of weeks.
const MAX_REPORT_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Where to write the HTML document (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The public report of this published release (`RenderRelease`), rather than live
    /// figures. What the office publishes; `--audience` does not apply.
    #[arg(long, value_name = "NUMBER", conflicts_with = "audience")]
    release: Option<i64>,
    /// Also print the report to this PDF (A4) with headless Chromium (`/usr/bin/chromium`).
    #[arg(long, value_name = "FILE")]
    pdf: Option<PathBuf>,
    /// Which edition: `public` (small counts suppressed, the office's preview of live figures;
    /// what the public reads are releases) or `internal` (exact counts; not for publication).
    #[arg(long, value_enum, default_value_t = Audience::Public)]
    audience: Audience,
    /// Reporting's URL, such as http://127.0.0.1:50053; by default the `reporting.url`
    /// setting.
    #[arg(long)]
    url: Option<String>,
    /// A file holding the bearer token to send (an office role: `public_reporter` reads only
    /// releases). Without it a development deployment mints a five-minute `analyst` token; a
    /// production deployment needs the file.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
}

/// Who the report is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Audience {
    Public,
    Internal,
}

impl From<Audience> for pb::Audience {
    fn from(audience: Audience) -> Self {
        match audience {
            Audience::Public => Self::Public,
            Audience::Internal => Self::Internal,
        }
    }
}

/// Fetches the report and writes it to `args.out`.
pub async fn run(settings: &Settings, args: ReportArgs) -> anyhow::Result<()> {
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| settings.url(ServiceKind::Reporting));
    let bearer: MetadataValue<Ascii> = format!("Bearer {}", token(settings, &args)?)
        .parse()
        .context("the token is not a valid header value")?;
    let channel = docket_platform::grpc::tls::channel(&url, &settings.tls)?;
    let mut client =
        ReportingServiceClient::with_interceptor(channel, move |mut request: tonic::Request<()>| {
            request
                .metadata_mut()
                .insert("authorization", bearer.clone());
            Ok(request)
        })
        .max_decoding_message_size(MAX_REPORT_BYTES);
    let answered =
        |s: tonic::Status| anyhow::anyhow!("{url} answered {:?}: {}", s.code(), s.message());
    let (html, edition) = match args.release {
        Some(number) => (
            client
                .render_release(pb::RenderReleaseRequest { number })
                .await
                .map_err(answered)?
                .into_inner()
                .html,
            format!("release {number}"),
        ),
        None => (
            client
                .render_report(pb::RenderReportRequest {
                    audience: pb::Audience::from(args.audience).into(),
                })
                .await
                .map_err(answered)?
                .into_inner()
                .html,
            match args.audience {
                Audience::Public => "public preview".to_owned(),
                Audience::Internal => "internal".to_owned(),
            },
        ),
    };
    eprintln!("{edition} report:");
    publish(&html, &args.out, args.pdf.as_deref(), None)
}

/// Writes `html` to `out`, and prints it to `pdf` or screenshots it to `screenshot` with
/// headless Chromium when asked.
pub fn publish(
    html: &str,
    out: &Path,
    pdf: Option<&Path>,
    screenshot: Option<&Path>,
) -> anyhow::Result<()> {
    write_atomically(out, html.as_bytes())?;
    eprintln!("wrote {} ({} bytes)", out.display(), html.len());
    if let Some(pdf) = pdf {
        crate::chromium::render(html, crate::chromium::Output::Pdf(pdf))?;
        eprintln!("wrote {}", pdf.display());
    }
    if let Some(file) = screenshot {
        crate::chromium::render(
            html,
            crate::chromium::Output::Screenshot {
                file,
                width: 1000,
                height: 2400,
            },
        )?;
        eprintln!("wrote {}", file.display());
    }
    Ok(())
}

/// The token from `--token-file`, or one minted for development.
fn token(settings: &Settings, args: &ReportArgs) -> anyhow::Result<String> {
    if let Some(path) = &args.token_file {
        let token = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?;
        return Ok(token.trim().to_owned());
    }
    if settings.mode != Mode::Development {
        bail!("a production deployment mints no tokens: give --token-file");
    }
    // Live figures are the office's, whichever edition: the public reads releases.
    let role = Role::Analyst;
    Ok(
        TokenIssuer::development(settings)?.mint(
            "docket-report",
            role,
            Duration::from_secs(300),
        )?,
    )
}

/// Writes `bytes` to `path` through a file beside it, so a reader never sees half a report.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, bytes)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("cannot move the report to {}", path.display()))
}
