//! One file's C2PA manifest, read and validated by the C2PA project's reader (`c2pa`), turned
//! into what Docket keeps of it. Blocking (it parses and hashes the whole file): call it on a
//! blocking thread.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use c2pa::{Context, Reader, ValidationState};
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;
use x509_cert::der::DecodePem;

/// What reading found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    NoManifest,
    Valid,
    Trusted,
    Invalid,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::NoManifest => "no_manifest",
            State::Valid => "valid",
            State::Trusted => "trusted",
            State::Invalid => "invalid",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            State::NoManifest,
            State::Valid,
            State::Trusted,
            State::Invalid,
        ]
        .into_iter()
        .find(|state| state.code() == code)
    }
}

/// An action a manifest declares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub action: String,
    pub software_agent: String,
    pub when: String,
    pub digital_source_type: String,
}

/// A failing validation code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub code: String,
    pub explanation: String,
}

/// What Docket keeps of a file's Content Credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub state: State,
    pub detail: String,
    pub manifest_label: String,
    pub signer_subject: String,
    pub signer_issuer: String,
    pub signed_time: String,
    pub claim_generator: String,
    pub actions: Vec<Action>,
    pub failures: Vec<Failure>,
}

impl Reading {
    /// No manifest, for the reason `detail` gives.
    pub fn no_manifest(detail: impl Into<String>) -> Self {
        Self {
            state: State::NoManifest,
            detail: detail.into(),
            manifest_label: String::new(),
            signer_subject: String::new(),
            signer_issuer: String::new(),
            signed_time: String::new(),
            claim_generator: String::new(),
            actions: Vec::new(),
            failures: Vec::new(),
        }
    }
}

/// The reader, with the trust anchors of the settings.
#[derive(Debug, Clone)]
pub struct CredentialReader {
    context: Arc<Context>,
}

impl CredentialReader {
    /// A reader that trusts the CAs in `anchors_pem` (none: manifests read VALID at best).
    /// Nothing is ever fetched: remote manifests and OCSP are off.
    pub fn new(anchors_pem: Option<&str>) -> anyhow::Result<Self> {
        let mut settings = serde_json::json!({
            "verify": {
                "verify_trust": true,
                "remote_manifest_fetch": false,
                "ocsp_fetch": false,
            }
        });
        if let Some(pem) = anchors_pem {
            settings["trust"] = serde_json::json!({ "user_anchors": pem });
        }
        let context = Context::new()
            .with_settings(settings.to_string().as_str())
            .context("the C2PA reader refuses its settings")?;
        Ok(Self {
            context: Arc::new(context),
        })
    }

    /// Reads the file at `path`, of media type `format`. An error is an I/O failure, worth
    /// trying again; anything the file itself causes is a [`Reading`].
    pub fn read(&self, format: &str, path: &Path) -> anyhow::Result<Reading> {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let reader = match Reader::from_shared_context(&self.context).with_stream(format, file) {
            Ok(reader) => reader,
            Err(error) => return classify(format, error),
        };
        Ok(reading_of(&reader))
    }
}

/// A reader's refusal: no manifest, a format it does not read, or a manifest too broken to
/// parse (invalid, with the reader's words).
fn classify(format: &str, error: c2pa::Error) -> anyhow::Result<Reading> {
    use c2pa::Error as E;
    if matches!(error, E::JumbfNotFound | E::ProvenanceMissing) {
        return Ok(Reading::no_manifest("the file carries no C2PA manifest"));
    }
    if matches!(error, E::UnsupportedType) {
        return Ok(Reading::no_manifest(format!(
            "the C2PA reader does not read files of type {format}"
        )));
    }
    if let E::RemoteManifestUrl(url) = &error {
        return Ok(Reading::no_manifest(format!(
            "the file refers to a remote manifest at {url}, which is not fetched"
        )));
    }
    if let E::IoError(io) = error {
        return Err(anyhow::Error::new(io).context("reading the file"));
    }
    // The reader's other hundred errors (an open set) all say the manifest is there but
    // cannot be made sense of.
    Ok(Reading {
        state: State::Invalid,
        detail: format!("the manifest cannot be read: {error}"),
        ..Reading::no_manifest("")
    })
}

fn reading_of(reader: &Reader) -> Reading {
    let state = match reader.validation_state() {
        ValidationState::Trusted => State::Trusted,
        ValidationState::Valid => State::Valid,
        ValidationState::Invalid => State::Invalid,
    };
    // A VALID manifest's failures are only `signingCredential.untrusted`, which VALID says.
    let failures: Vec<Failure> = match reader
        .validation_results()
        .and_then(|results| results.active_manifest())
        .filter(|_| state == State::Invalid)
    {
        Some(codes) => codes
            .failure()
            .iter()
            .map(|status| Failure {
                code: status.code().to_owned(),
                explanation: status.explanation().unwrap_or_default().to_owned(),
            })
            .collect(),
        None => Vec::new(),
    };
    let Some(manifest) = reader.active_manifest() else {
        return Reading {
            state,
            failures,
            detail: "a manifest store without an active manifest".to_owned(),
            ..Reading::no_manifest("")
        };
    };
    let json = serde_json::to_value(manifest).unwrap_or_default();
    let (signer_subject, signer_issuer, signed_time) = match manifest.signature_info() {
        Some(info) => {
            let (subject, issuer) = names_of(info.cert_chain()).unwrap_or_else(|| {
                (
                    info.common_name.clone().unwrap_or_default(),
                    info.issuer.clone().unwrap_or_default(),
                )
            });
            (subject, issuer, info.time.clone().unwrap_or_default())
        }
        None => (String::new(), String::new(), String::new()),
    };
    Reading {
        state,
        detail: String::new(),
        manifest_label: manifest.label().unwrap_or_default().to_owned(),
        signer_subject,
        signer_issuer,
        signed_time,
        claim_generator: claim_generator_of(&json),
        actions: actions_of(&json),
        failures,
    }
}

/// The subject and issuer of the first (the signer's) certificate of a PEM chain.
fn names_of(chain_pem: &str) -> Option<(String, String)> {
    let first = pem_blocks(chain_pem).into_iter().next()?;
    let certificate = Certificate::from_pem(first.as_bytes()).ok()?;
    Some((
        certificate.tbs_certificate.subject.to_string(),
        certificate.tbs_certificate.issuer.to_string(),
    ))
}

fn pem_blocks(text: &str) -> Vec<String> {
    const END: &str = "-----END CERTIFICATE-----";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let Some(end) = rest[start..].find(END) else {
            break;
        };
        let stop = start + end + END.len();
        blocks.push(rest[start..stop].to_owned());
        rest = &rest[stop..];
    }
    blocks
}

/// `claim_generator` (v1 claims), else the names and versions of `claim_generator_info`.
fn claim_generator_of(manifest: &serde_json::Value) -> String {
    if let Some(text) = manifest["claim_generator"].as_str()
        && !text.is_empty()
    {
        return text.to_owned();
    }
    let infos = manifest["claim_generator_info"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    infos
        .iter()
        .map(agent_name)
        .filter(|name| !name.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A software agent: a string (v1 actions) or `{name, version}` (v2).
fn agent_name(agent: &serde_json::Value) -> String {
    match agent {
        serde_json::Value::String(name) => name.clone(),
        serde_json::Value::Object(info) => {
            let name = info.get("name").and_then(|v| v.as_str()).unwrap_or("");
            match info.get("version").and_then(|v| v.as_str()) {
                Some(version) if !version.is_empty() => format!("{name} {version}"),
                _ => name.to_owned(),
            }
        }
        serde_json::Value::Null
        | serde_json::Value::Bool(_)
        | serde_json::Value::Number(_)
        | serde_json::Value::Array(_) => String::new(),
    }
}

/// The entries of every actions assertion (`c2pa.actions`, `c2pa.actions.v2`), in order.
fn actions_of(manifest: &serde_json::Value) -> Vec<Action> {
    let mut actions = Vec::new();
    for assertion in manifest["assertions"].as_array().into_iter().flatten() {
        let label = assertion["label"].as_str().unwrap_or("");
        if !label.starts_with("c2pa.actions") {
            continue;
        }
        for entry in assertion["data"]["actions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            actions.push(Action {
                action: entry["action"].as_str().unwrap_or("").to_owned(),
                software_agent: agent_name(&entry["softwareAgent"]),
                when: entry["when"].as_str().unwrap_or("").to_owned(),
                digital_source_type: entry["digitalSourceType"].as_str().unwrap_or("").to_owned(),
            });
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_read_from_both_versions_of_the_assertion() {
        let manifest = serde_json::json!({
            "claim_generator_info": [{"name": "Field Camera", "version": "7.1"}],
            "assertions": [
                {"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created", "softwareAgent": "Camera 1.0",
                     "when": "2026-03-01T10:00:00Z"}]}},
                {"label": "stds.exif", "data": {}},
                {"label": "c2pa.actions.v2", "data": {"actions": [
                    {"action": "c2pa.cropped", "softwareAgent": {"name": "Editor"},
                     "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}},
            ]
        });
        let actions = actions_of(&manifest);
        assert_eq!(actions.len(), 2);
        assert_eq!(actions[0].action, "c2pa.created");
        assert_eq!(actions[0].software_agent, "Camera 1.0");
        assert_eq!(actions[0].when, "2026-03-01T10:00:00Z");
        assert_eq!(actions[1].software_agent, "Editor");
        assert!(actions[1].digital_source_type.ends_with("digitalCapture"));
        assert_eq!(claim_generator_of(&manifest), "Field Camera 7.1");
    }
}
