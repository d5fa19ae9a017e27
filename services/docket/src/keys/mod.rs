//! `docket keys export` and `docket keys import`: the keys without which a backup is useless
//! (the sealing keys open sealed identities, the receipt key checks anonymous sources'
//! receipts, the development token secret signs tokens, the release signing key proves the
//! office's public releases its own), carried apart from the backup.
//!
//! The export is a settings fragment in TOML (`[sealing]`, `[intake] receipt_key`,
//! `[auth] hs256_secret`, `[reporting.release] signing_key`). It leaves Docket in one of three
//! ways: encrypted to one or more age recipients (`--recipient age1…`, any of whose identities
//! opens it); split among several holders (`--recipient` once per holder and `--threshold K`:
//! one share file each, encrypted to its holder, any K of them recovering the keys, fewer saying
//! nothing); or in clear on standard output, only when that is not a terminal, for a pipe into
//! an encryption tool. Import reads it back (decrypting with `--identity` files, or combining
//! `--share` files) and writes the development key files under the data directory (readable by
//! their owner only), never replacing a different key; production keys are settings, and
//! import says where they go.

mod holders;
mod shares;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use docket_platform::Settings;
use serde::{Deserialize, Serialize};

use crate::backup::files;
use crate::crypt::{self, Identities, Recipients};

/// The id of the generated development sealing key (as `docket_platform::sealing` names it).
const DEVELOPMENT_SEALING_KEY_ID: &str = "dev";
const SEALING_FILE: &str = "sealing-dev.key";
const RECEIPT_FILE: &str = "intake-receipt.key";
const TOKEN_FILE: &str = "auth-hs256.secret";
/// The generated development release signing key (as `docket_reporting::release` names it).
const RELEASE_SIGNING_FILE: &str = "release-signing-dev.key";

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Writes the sealing keys, the receipt key, the release signing key and the development
    /// token secret: encrypted to `--recipient` (standard output, armored), split among
    /// holders (`--threshold`, files under `--out`), or in clear to a pipe (never a terminal).
    Export(ExportArgs),
    /// Puts back what `export` wrote: read from standard input (decrypted with `--identity`
    /// when encrypted), or combined from `--share` files; the development keys go under the
    /// data directory.
    Import(ImportArgs),
}

/// `docket keys export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// An age recipient (`age1…`, from `age-keygen`) to encrypt to; repeat for several. Without
    /// `--threshold`, any one of their identities opens the export.
    #[arg(long = "recipient", value_name = "AGE_RECIPIENT")]
    recipients: Vec<String>,
    /// Splits the keys among the recipients, one share each, any THRESHOLD of which recover
    /// them (2 of 3, say); fewer reveal nothing.
    #[arg(long, value_name = "THRESHOLD", requires = "out")]
    threshold: Option<usize>,
    /// The directory the share files are written to (with `--threshold`), one per recipient.
    #[arg(long, value_name = "DIR", requires = "threshold")]
    out: Option<PathBuf>,
}

/// `docket keys import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// An age identity file (`AGE-SECRET-KEY-1…`) that opens the export or shares; repeat for
    /// several (each holder's own).
    #[arg(long = "identity", value_name = "FILE")]
    identities: Vec<PathBuf>,
    /// A share file written by `export --threshold` (encrypted, or already decrypted by its
    /// holder); give at least the threshold. Without shares, the export is read from standard
    /// input.
    #[arg(long = "share", value_name = "FILE")]
    shares: Vec<PathBuf>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Exported {
    #[serde(default)]
    sealing: Sealing,
    #[serde(default)]
    intake: Intake,
    #[serde(default)]
    auth: Auth,
    #[serde(default)]
    reporting: Reporting,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reporting {
    #[serde(default)]
    release: Release,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Release {
    signing_key: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sealing {
    current_key_id: Option<String>,
    #[serde(default)]
    keys: BTreeMap<String, String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Intake {
    receipt_key: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Auth {
    hs256_secret: Option<String>,
}

pub fn run(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Export(args) => {
            let recipients = Recipients::parse(&args.recipients)?;
            match (recipients, args.threshold, args.out) {
                (Some(recipients), Some(threshold), Some(out)) => {
                    let text = export(settings)?;
                    for line in
                        holders::export_shares(text.as_bytes(), &recipients, threshold, &out)?
                    {
                        println!("{line}");
                    }
                    Ok(())
                }
                (None, Some(_), _) => anyhow::bail!(
                    "--threshold needs a --recipient for each holder, who alone can open their share"
                ),
                (Some(recipients), None, _) => {
                    let sealed = recipients.encrypt_armored(export(settings)?.as_bytes())?;
                    write_stdout(&sealed)
                }
                (None, None, _) => {
                    anyhow::ensure!(
                        !std::io::stdout().is_terminal(),
                        "refusing to print keys on a terminal: give `--recipient age1…`, or pipe \
                         them into an encryption tool"
                    );
                    write_stdout(export(settings)?.as_bytes())
                }
                (Some(_), Some(_), None) => anyhow::bail!("--threshold needs --out DIR"),
            }
        }
        KeysCommand::Import(args) => {
            let identities = Identities::read(&args.identities)?;
            let text = if args.shares.is_empty() {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .context("cannot read the keys from standard input")?;
                open(&identities, &bytes, "standard input")?
            } else {
                holders::combine_shares(&identities, &args.shares)?
            };
            let text = String::from_utf8(text).context("not what `docket keys export` wrote")?;
            for line in import(settings, &text)? {
                println!("{line}");
            }
            Ok(())
        }
    }
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(())
}

/// `bytes` decrypted when they are an age file, as they are otherwise.
pub(super) fn open(identities: &Identities, bytes: &[u8], what: &str) -> anyhow::Result<Vec<u8>> {
    if !crypt::is_age(bytes) {
        return Ok(bytes.to_vec());
    }
    anyhow::ensure!(
        !identities.is_empty(),
        "{what} is encrypted: give the identity that opens it with --identity FILE"
    );
    identities
        .decrypt(bytes)
        .with_context(|| format!("cannot decrypt {what}"))
}

/// The keys of the deployment `settings` describe, as a TOML settings fragment.
fn export(settings: &Settings) -> anyhow::Result<String> {
    let data = &settings.data_dir;
    let mut exported = Exported::default();
    if settings.sealing.keys.is_empty() {
        if let Some(key) = read_secret(&data.join(SEALING_FILE))? {
            exported
                .sealing
                .keys
                .insert(DEVELOPMENT_SEALING_KEY_ID.to_owned(), key);
            exported.sealing.current_key_id = Some(DEVELOPMENT_SEALING_KEY_ID.to_owned());
        }
    } else {
        exported.sealing.keys = settings.sealing.keys.clone();
        exported.sealing.current_key_id = settings.sealing.current_key_id.clone();
    }
    exported.intake.receipt_key = match &settings.intake.receipt_key {
        Some(key) => Some(key.clone()),
        None => read_secret(&data.join(RECEIPT_FILE))?,
    };
    exported.auth.hs256_secret = match &settings.auth.hs256_secret {
        Some(secret) => Some(secret.clone()),
        None => read_secret(&data.join(TOKEN_FILE))?,
    };
    exported.reporting.release.signing_key = match &settings.reporting.release.signing_key {
        Some(key) => Some(key.clone()),
        None => read_secret(&data.join(RELEASE_SIGNING_FILE))?,
    };
    anyhow::ensure!(
        !exported.sealing.keys.is_empty() || exported.intake.receipt_key.is_some(),
        "no keys to export: none configured and none under {}",
        data.display()
    );
    let body = toml::to_string(&exported)?;
    Ok(format!(
        "# Docket keys, exported {}. Keep this encrypted and apart from the backups.\n{body}",
        chrono::Utc::now().to_rfc3339()
    ))
}

/// Puts the keys of `text` back; returns what it did, a line each.
fn import(settings: &Settings, text: &str) -> anyhow::Result<Vec<String>> {
    let exported: Exported = toml::from_str(text).context("not what `docket keys export` wrote")?;
    let data = &settings.data_dir;
    files::create_private_dir(data)?;
    let mut done = Vec::new();
    for (id, key) in &exported.sealing.keys {
        if id == DEVELOPMENT_SEALING_KEY_ID && settings.sealing.keys.is_empty() {
            done.push(place(data, SEALING_FILE, key)?);
        } else if settings.sealing.keys.get(id) != Some(key) {
            done.push(format!(
                "sealing key {id:?} is a configured key: set `sealing.keys.{id}` (and \
                 `sealing.current_key_id`) from this file in your settings or secret store"
            ));
        }
    }
    if let Some(key) = &exported.intake.receipt_key {
        if settings.intake.receipt_key.is_none() {
            done.push(place(data, RECEIPT_FILE, key)?);
        } else if settings.intake.receipt_key.as_ref() != Some(key) {
            done.push("the receipt key differs from `intake.receipt_key`: set it".to_owned());
        }
    }
    if let Some(secret) = &exported.auth.hs256_secret
        && settings.auth.hs256_secret.is_none()
    {
        done.push(place(data, TOKEN_FILE, secret)?);
    }
    if let Some(key) = &exported.reporting.release.signing_key {
        match &settings.reporting.release.signing_key {
            None => done.push(place(data, RELEASE_SIGNING_FILE, key)?),
            Some(configured) if configured != key => done.push(
                "the release signing key differs from `reporting.release.signing_key`: set it"
                    .to_owned(),
            ),
            Some(_) => {}
        }
    }
    Ok(done)
}

/// Writes `secret` to the new private file `file` under `data`, unless it holds it already;
/// refuses to replace another.
fn place(data: &Path, file: &str, secret: &str) -> anyhow::Result<String> {
    let path = data.join(file);
    match read_secret(&path)? {
        Some(existing) if existing == secret => {
            Ok(format!("{} already holds this key", path.display()))
        }
        Some(_) => anyhow::bail!(
            "{} holds another key: move it away first if this one replaces it",
            path.display()
        ),
        None => {
            files::write_private(&path, secret.as_bytes())?;
            Ok(format!("wrote {}", path.display()))
        }
    }
}

/// The trimmed contents of `path`, or `None` when it does not exist.
fn read_secret(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_keys_exported_and_imported_come_back_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::defaults().unwrap();
        settings.data_dir = dir.path().to_owned();
        for file in [SEALING_FILE, RECEIPT_FILE, TOKEN_FILE, RELEASE_SIGNING_FILE] {
            docket_platform::secrets::load_or_create(&dir.path().join(file)).unwrap();
        }
        let before: Vec<String> = [SEALING_FILE, RECEIPT_FILE, TOKEN_FILE, RELEASE_SIGNING_FILE]
            .iter()
            .map(|f| std::fs::read_to_string(dir.path().join(f)).unwrap())
            .collect();
        let text = export(&settings).unwrap();
        for file in [SEALING_FILE, RECEIPT_FILE, TOKEN_FILE, RELEASE_SIGNING_FILE] {
            std::fs::remove_file(dir.path().join(file)).unwrap();
        }
        import(&settings, &text).unwrap();
        let after: Vec<String> = [SEALING_FILE, RECEIPT_FILE, TOKEN_FILE, RELEASE_SIGNING_FILE]
            .iter()
            .map(|f| std::fs::read_to_string(dir.path().join(f)).unwrap())
            .collect();
        assert_eq!(before, after);
        // Again: nothing to do. Another key in place: refused, by name.
        import(&settings, &text).unwrap();
        std::fs::write(dir.path().join(RECEIPT_FILE), "another").unwrap();
        let refused = import(&settings, &text).unwrap_err().to_string();
        assert!(refused.contains(RECEIPT_FILE), "{refused}");
    }
}
