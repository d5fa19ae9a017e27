//! `docket release reproduce FILE`: asks a running reporting to recompute a published release
//! at the stream positions it records (`ReproduceRelease`) and compares the answer with the
//! file byte for byte, so that anyone the office lets call it can show that the published
//! figures are what the office's data gave — or where they are not.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use docket_platform::auth::{Role, TokenIssuer};
use docket_platform::{Mode, ServiceKind, Settings};
use docket_proto::docket::reporting::v1 as pb;
use docket_proto::docket::reporting::v1::reporting_service_client::ReportingServiceClient;
use docket_reporting::release::document;
use serde_json::Value;
use tonic::metadata::{Ascii, MetadataValue};

/// Release files hold every table of a docket; far below this even at 10^6 cases.
const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// The published release file (from `ExportRelease`).
    file: PathBuf,
    /// The office's published public key (base64): the file is verified against it offline
    /// before anything is asked. Without it, only against the key the file carries.
    #[arg(long)]
    public_key: Option<String>,
    /// Reporting's URL, such as http://127.0.0.1:50053; by default the `reporting.url` setting.
    #[arg(long)]
    url: Option<String>,
    /// A file holding the bearer token to send (`supervisor` or `auditor`). Without it a
    /// development deployment mints a five-minute `supervisor` token; production needs the file.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Also write the reproduced file here.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Verifies the file, has reporting reproduce it, and fails when the two differ.
pub async fn run(settings: &Settings, args: ReproduceArgs) -> anyhow::Result<()> {
    let published = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let verified = document::verify(&published, args.public_key.as_deref())
        .with_context(|| format!("{} does not verify", args.file.display()))?;
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| settings.url(ServiceKind::Reporting));
    let bearer: MetadataValue<Ascii> = format!("Bearer {}", token(settings, &args)?)
        .parse()
        .context("the token is not a valid header value")?;
    let channel = docket_platform::grpc::tls::endpoint(&url, &settings.tls)?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .with_context(|| format!("cannot reach reporting at {url}"))?;
    let mut client =
        ReportingServiceClient::with_interceptor(channel, move |mut request: tonic::Request<()>| {
            request
                .metadata_mut()
                .insert("authorization", bearer.clone());
            Ok(request)
        })
        .max_decoding_message_size(MAX_FILE_BYTES)
        .max_encoding_message_size(MAX_FILE_BYTES);
    let answer = client
        .reproduce_release(pb::ReproduceReleaseRequest {
            file: published.clone().into(),
        })
        .await
        .map_err(|s| anyhow::anyhow!("{url} answered {:?}: {}", s.code(), s.message()))?
        .into_inner();
    let reproduced: Vec<u8> = answer.file.into();
    if let Some(out) = &args.out {
        std::fs::write(out, &reproduced)
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("wrote the reproduced release to {}", out.display());
    }
    match first_difference(&published, &reproduced) {
        None => {
            println!(
                "release {} \"{}\" reproduced byte for byte at {}: {} bytes, document SHA-256 {}",
                verified.document.number,
                verified.document.title,
                verified
                    .document
                    .positions
                    .iter()
                    .map(|p| format!("{} {}", p.stream, p.sequence))
                    .collect::<Vec<_>>()
                    .join(", "),
                published.len(),
                verified.document_sha256
            );
            Ok(())
        }
        Some(difference) => bail!(
            "release {} does not reproduce: {difference}",
            verified.document.number
        ),
    }
}

/// Where `published` and `reproduced` first differ: the byte, and in the document the first
/// value that differs, by its path (`tables[3].cells[0].value`); `None` when they are equal.
pub fn first_difference(published: &[u8], reproduced: &[u8]) -> Option<String> {
    let shorter = published.len().min(reproduced.len());
    let at = published
        .iter()
        .zip(reproduced)
        .position(|(a, b)| a != b)
        .or_else(|| (published.len() != reproduced.len()).then_some(shorter))?;
    let line = published[..at].iter().filter(|b| **b == b'\n').count() + 1;
    let excerpt = |bytes: &[u8]| {
        let start = at.saturating_sub(40);
        let end = (at + 40).min(bytes.len());
        String::from_utf8_lossy(&bytes[start.min(end)..end]).into_owned()
    };
    let mut said = format!(
        "first at byte {at} (line {line}{}): published …{}… reproduced …{}…",
        if line == 2 { ", the signature" } else { "" },
        excerpt(published),
        excerpt(reproduced)
    );
    let document = |bytes: &[u8]| {
        let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
        serde_json::from_slice::<Value>(first).ok()
    };
    if let (Some(a), Some(b)) = (document(published), document(reproduced))
        && let Some((path, x, y)) = first_value_difference(&a, &b, String::new())
    {
        said.push_str(&format!(
            "; in the document, {path} is {x} published, {y} reproduced"
        ));
    }
    Some(said)
}

/// The path to the first value that differs between `a` and `b`, with both values.
fn first_value_difference(a: &Value, b: &Value, path: String) -> Option<(String, String, String)> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, value) in x {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match y.get(key) {
                    Some(other) => {
                        if let Some(found) = first_value_difference(value, other, here) {
                            return Some(found);
                        }
                    }
                    None => return Some((here, value.to_string(), "absent".to_owned())),
                }
            }
            y.keys()
                .find(|key| !x.contains_key(*key))
                .map(|key| (key.clone(), "absent".to_owned(), y[key].to_string()))
        }
        (Value::Array(x), Value::Array(y)) => {
            for (index, (value, other)) in x.iter().zip(y).enumerate() {
                if let Some(found) =
                    first_value_difference(value, other, format!("{path}[{index}]"))
                {
                    return Some(found);
                }
            }
            (x.len() != y.len()).then(|| {
                (
                    format!("{path} (length)"),
                    x.len().to_string(),
                    y.len().to_string(),
                )
            })
        }
        _ => (a != b).then(|| (path, a.to_string(), b.to_string())),
    }
}

/// The token from `--token-file`, or one minted for development.
fn token(settings: &Settings, args: &ReproduceArgs) -> anyhow::Result<String> {
    if let Some(path) = &args.token_file {
        let token = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?;
        return Ok(token.trim().to_owned());
    }
    if settings.mode != Mode::Development {
        bail!("a production deployment mints no tokens: give --token-file");
    }
    Ok(TokenIssuer::development(settings)?.mint(
        "docket-release",
        Role::Supervisor,
        Duration::from_secs(300),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_named_by_byte_and_by_value() {
        let published = b"{\"number\":1,\"tables\":[{\"cells\":[{\"value\":12}]}]}\nsig-a";
        let reproduced = b"{\"number\":1,\"tables\":[{\"cells\":[{\"value\":17}]}]}\nsig-b";
        let said = first_difference(published, reproduced).unwrap();
        assert!(said.contains("byte 42 (line 1)"), "{said}");
        assert!(
            said.contains("tables[0].cells[0].value is 12 published, 17 reproduced"),
            "{said}"
        );
        assert_eq!(first_difference(published, published), None);
        let shorter = &published[..published.len() - 1];
        assert!(
            first_difference(published, shorter)
                .unwrap()
                .contains("line 2")
        );
    }
}
