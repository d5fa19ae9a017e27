//! Encryption to age recipients (X25519, `age1…`), for backups and key exports that the machine
//! holding them cannot read: only whoever holds the matching identity file (`AGE-SECRET-KEY-1…`,
//! made with `age-keygen`) can. Files written here are ordinary age files: `age -d -i KEY FILE`
//! opens them too.

use std::io::{self, BufReader, Read, Write};
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Context;
use sha2::{Digest, Sha256};

/// Where every age file begins, binary or armored.
const BINARY_MAGIC: &[u8] = b"age-encryption.org/";
const ARMOR_MAGIC: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// The public keys a file is encrypted to; any one of their identities opens it.
#[derive(Clone)]
pub struct Recipients {
    keys: Vec<age::x25519::Recipient>,
    text: Vec<String>,
}

impl std::fmt::Debug for Recipients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.text).finish()
    }
}

impl Recipients {
    /// Parses `age1…` public keys; `None` when there are none.
    pub fn parse(texts: &[String]) -> anyhow::Result<Option<Self>> {
        if texts.is_empty() {
            return Ok(None);
        }
        let mut keys = Vec::new();
        for text in texts {
            let key = age::x25519::Recipient::from_str(text.trim()).map_err(|error| {
                anyhow::anyhow!("{text:?} is not an age recipient (age1…): {error}")
            })?;
            keys.push(key);
        }
        Ok(Some(Self {
            keys,
            text: texts.iter().map(|t| t.trim().to_owned()).collect(),
        }))
    }

    /// The recipients as their holders wrote them (`age1…`).
    pub fn as_text(&self) -> &[String] {
        &self.text
    }

    /// One recipient alone (a share's holder).
    pub fn one(&self, index: usize) -> Option<Self> {
        Some(Self {
            keys: vec![self.keys.get(index)?.clone()],
            text: vec![self.text.get(index)?.clone()],
        })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    fn encryptor(&self) -> io::Result<age::Encryptor> {
        age::Encryptor::with_recipients(self.keys.iter().map(|k| k as &dyn age::Recipient))
            .map_err(io::Error::other)
    }

    /// `plain` encrypted, as armored text (for key files that travel by hand or by mail).
    pub fn encrypt_armored(&self, plain: &[u8]) -> anyhow::Result<Vec<u8>> {
        let armored =
            age::armor::ArmoredWriter::wrap_output(Vec::new(), age::armor::Format::AsciiArmor)?;
        let mut writer = self.encryptor()?.wrap_output(armored)?;
        writer.write_all(plain)?;
        Ok(writer.finish()?.finish()?)
    }

    /// Encrypts everything `source` gives into `target`; returns the SHA-256 (hex) and size of
    /// the plaintext.
    pub fn encrypt_stream(
        &self,
        source: &mut impl Read,
        target: &mut impl Write,
    ) -> io::Result<(String, u64)> {
        let mut writer = self.encryptor()?.wrap_output(target)?;
        let hashed = copy_hashed(source, &mut writer)?;
        writer.finish()?;
        Ok(hashed)
    }
}

/// The identities (private keys) that open files encrypted to their recipients.
pub struct Identities(Vec<Box<dyn age::Identity + Send + Sync>>);

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identities({})", self.0.len())
    }
}

impl Identities {
    /// Reads age identity files (`age-keygen` output; comments allowed).
    pub fn read(files: &[PathBuf]) -> anyhow::Result<Self> {
        let mut identities = Vec::new();
        for file in files {
            let text = std::fs::read(file)
                .with_context(|| format!("cannot read the identity file {}", file.display()))?;
            let found = age::IdentityFile::from_buffer(text.as_slice())
                .and_then(|f| f.into_identities().map_err(io::Error::other))
                .with_context(|| format!("{} is not an age identity file", file.display()))?;
            anyhow::ensure!(
                !found.is_empty(),
                "{} holds no age identity",
                file.display()
            );
            identities.extend(found);
        }
        Ok(Self(identities))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A reader of the plaintext of the age file (binary or armored) `source`.
    pub fn decrypting<R: Read>(&self, source: R) -> anyhow::Result<impl Read + use<R>> {
        let armored = age::armor::ArmoredReader::new(BufReader::new(source));
        let decryptor = age::Decryptor::new(armored).context("not an age file")?;
        decryptor
            .decrypt(self.0.iter().map(|i| i.as_ref() as &dyn age::Identity))
            .map_err(|error| {
                if matches!(error, age::DecryptError::NoMatchingKeys) {
                    anyhow::anyhow!(
                        "none of the identities given opens it: it was encrypted to another key"
                    )
                } else {
                    anyhow::Error::from(error)
                }
            })
    }

    /// The plaintext of the age file held in `bytes`.
    pub fn decrypt(&self, bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut plain = Vec::new();
        self.decrypting(bytes)?.read_to_end(&mut plain)?;
        Ok(plain)
    }

    /// Decrypts the age file `source` into `target`; returns the SHA-256 (hex) and size of the
    /// plaintext.
    pub fn decrypt_stream(
        &self,
        source: impl Read,
        target: &mut impl Write,
    ) -> anyhow::Result<(String, u64)> {
        let mut reader = self.decrypting(source)?;
        Ok(copy_hashed(&mut reader, target)?)
    }
}

/// Whether `bytes` begin an age file.
pub fn is_age(bytes: &[u8]) -> bool {
    let text = bytes.trim_ascii_start();
    text.starts_with(BINARY_MAGIC) || text.starts_with(ARMOR_MAGIC)
}

/// Copies `source` to `target`; returns the SHA-256 (hex) and size of what was copied.
fn copy_hashed(source: &mut impl Read, target: &mut impl Write) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let read = match source.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        hasher.update(&buffer[..read]);
        target.write_all(&buffer[..read])?;
        size += read as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// The file name an encrypted copy of `name` is kept under.
pub fn encrypted_name(name: &str) -> String {
    format!("{name}.age")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn identity_file(dir: &Path, name: &str) -> (PathBuf, String) {
        use age::secrecy::ExposeSecret;
        let identity = age::x25519::Identity::generate();
        let path = dir.join(name);
        std::fs::write(&path, identity.to_string().expose_secret()).unwrap();
        (path, identity.to_public().to_string())
    }

    #[test]
    fn what_a_recipient_encrypts_only_its_identity_opens() {
        let dir = tempfile::tempdir().unwrap();
        let (mine, recipient) = identity_file(dir.path(), "mine");
        let (theirs, _) = identity_file(dir.path(), "theirs");
        let recipients = Recipients::parse(&[recipient]).unwrap().unwrap();
        let sealed = recipients.encrypt_armored(b"the keys").unwrap();
        assert!(is_age(&sealed));
        assert!(!sealed.windows(8).any(|w| w == b"the keys"));
        let opened = Identities::read(&[mine]).unwrap().decrypt(&sealed).unwrap();
        assert_eq!(opened, b"the keys");
        let refused = Identities::read(&[theirs])
            .unwrap()
            .decrypt(&sealed)
            .unwrap_err();
        assert!(refused.to_string().contains("another key"), "{refused}");

        let mut binary = Vec::new();
        let (sha256, size) = recipients
            .encrypt_stream(&mut &b"abc"[..], &mut binary)
            .unwrap();
        assert_eq!(size, 3);
        assert!(is_age(&binary));
        let mut plain = Vec::new();
        let (opened, _) = Identities::read(&[dir.path().join("mine")])
            .unwrap()
            .decrypt_stream(binary.as_slice(), &mut plain)
            .unwrap();
        assert_eq!((opened, plain.as_slice()), (sha256, &b"abc"[..]));
        assert!(Recipients::parse(&["age1nope".to_owned()]).is_err());
    }
}
