//! A file put into a backup repository as it is, or encrypted to age recipients so that the
//! machine holding the repository cannot read it; and taken back out. Either way the manifest
//! records the SHA-256 of the bytes stored (so that a repository can be checked without its
//! key) and, for an encrypted file, of its plaintext (checked as it is decrypted).

use std::fs::File;
use std::io;
use std::path::Path;

use anyhow::Context;

use super::files::{self, HashingWriter};
use super::manifest::FileEntry;
use crate::crypt::{Identities, Recipients};

/// Copies (or encrypts) `source` into the new private file `target`; returns its entry and the
/// SHA-256 of its plaintext.
pub fn store(
    source: &Path,
    target: &Path,
    recipients: Option<&Recipients>,
) -> io::Result<(FileEntry, String)> {
    let Some(recipients) = recipients else {
        let (sha256, bytes) = files::copy_private(source, target)?;
        let entry = FileEntry {
            sha256: sha256.clone(),
            bytes,
            clear_sha256: None,
        };
        return Ok((entry, sha256));
    };
    let mut input = File::open(source)?;
    let mut output = HashingWriter::new(files::create_private_file(target)?);
    let (clear, _) = recipients.encrypt_stream(&mut input, &mut output)?;
    let (file, sha256, bytes) = output.finish();
    file.sync_all()?;
    let entry = FileEntry {
        sha256,
        bytes,
        clear_sha256: Some(clear.clone()),
    };
    Ok((entry, clear))
}

/// Copies (or decrypts) the stored `source` into the new private file `target`, checking its
/// plaintext against `entry`.
pub fn restore(
    source: &Path,
    target: &Path,
    entry: &FileEntry,
    identities: &Identities,
) -> anyhow::Result<()> {
    let (found, expected) = match &entry.clear_sha256 {
        None => (files::copy_private(source, target)?.0, &entry.sha256),
        Some(clear) => {
            let input = File::open(source)?;
            let mut output = files::create_private_file(target)?;
            let (found, _) = identities
                .decrypt_stream(input, &mut output)
                .with_context(|| format!("cannot decrypt {}", source.display()))?;
            output.sync_all()?;
            (found, clear)
        }
    };
    // Checked again as copied: the file could have changed since the manifest was checked.
    anyhow::ensure!(
        &found == expected,
        "{} changed while it was restored (SHA-256 {found}, the manifest says {expected}); \
         empty the data directory and restore again",
        source.display()
    );
    Ok(())
}

/// Checks, before anything is written, that `identities` open the encrypted `source`.
pub fn check_opens(source: &Path, identities: &Identities) -> anyhow::Result<()> {
    identities.decrypting(File::open(source)?).map(|_| ())
}
