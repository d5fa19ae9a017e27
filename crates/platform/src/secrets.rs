//! Development secrets: generated once, kept in a file under the data directory readable by its
//! owner only, and read back on every start, so that a development deployment needs no
//! configuration and `docket token` mints tokens the running services accept. Production
//! configures every secret instead (see `Mode`).

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// The secret in `file` (trimmed), created as 64 random hex characters if the file is missing.
pub fn load_or_create(file: &Path) -> io::Result<String> {
    match fs::read_to_string(file) {
        Ok(existing) => return Ok(existing.trim().to_owned()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
    let secret = hex::encode(random);
    if let Some(parent) = file.parent() {
        crate::files::create_missing_dirs(parent)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(mut created) => {
            created.write_all(secret.as_bytes())?;
            created.sync_all()?;
            tracing::info!(file = %file.display(), "generated a development secret");
            Ok(secret)
        }
        // Another process of this deployment created it first: use theirs.
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            Ok(fs::read_to_string(file)?.trim().to_owned())
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_created_once_and_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested/secret");
        let first = load_or_create(&file).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(load_or_create(&file).unwrap(), first);
    }
}
