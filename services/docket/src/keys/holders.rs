//! Key shares as files: one per holder, each encrypted to its holder's age recipient, and the
//! export recovered from any threshold of them.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{open, shares};
use crate::backup::files;
use crate::crypt::{Identities, Recipients};

/// Writes one share file per recipient under `out`; returns what it wrote, a line each.
pub(super) fn export_shares(
    export: &[u8],
    recipients: &Recipients,
    threshold: usize,
    out: &Path,
) -> anyhow::Result<Vec<String>> {
    let shares = shares::split(export, threshold, recipients.len())?;
    files::create_private_dir(out)?;
    let mut written = Vec::new();
    for (i, share) in shares.iter().enumerate() {
        let holder = recipients.one(i).context("a share for each recipient")?;
        let text = format!(
            "# Docket key share {} of {}: any {} of the shares recover the keys \
             (docket keys import --share FILE …).\n{}",
            share.index,
            share.holders,
            share.threshold,
            toml::to_string(share)?
        );
        let path = out.join(format!(
            "docket-keys-share-{}-of-{}.age",
            share.index, share.holders
        ));
        files::write_private(&path, &holder.encrypt_armored(text.as_bytes())?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(format!(
            "wrote {} for {}",
            path.display(),
            holder.as_text().join(" ")
        ));
    }
    written.push(format!(
        "any {threshold} of these {} shares recover the keys; give each to its holder",
        shares.len()
    ));
    Ok(written)
}

/// The export recovered from the share files `paths`.
pub(super) fn combine_shares(
    identities: &Identities,
    paths: &[PathBuf],
) -> anyhow::Result<Vec<u8>> {
    let mut parsed = Vec::new();
    for path in paths {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let text = open(identities, &bytes, &path.display().to_string())?;
        let text = String::from_utf8(text)
            .ok()
            .and_then(|text| toml::from_str::<shares::Share>(&text).ok())
            .with_context(|| {
                format!(
                    "{} is not a share written by `docket keys export --threshold`",
                    path.display()
                )
            })?;
        parsed.push(text);
    }
    Ok(shares::combine(&parsed)?)
}
