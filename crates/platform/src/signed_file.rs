//! Files the office signs for disclosure, checkable offline: a custody report of an evidence
//! item, in the form of a signed release. The file is two lines: the document, whose bytes are
//! signed as they are, and a JSON object with the algorithm, the Ed25519 public key and the
//! signature (base64). Any changed byte of the document breaks the signature.
//!
//! The key is the office's signing key, the one its releases are signed with
//! (`reporting.release.signing_key`; in development generated once in
//! `data_dir/release-signing-dev.key`), so one published public key checks them all.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Mode, Settings};

/// The second line of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Seal {
    algorithm: String,
    public_key: String,
    signature: String,
}

/// The office's signing key: from settings, or in development generated once under `data_dir`.
pub fn office_key(settings: &Settings) -> anyhow::Result<SigningKey> {
    let hex_seed = match (&settings.reporting.release.signing_key, settings.mode) {
        (Some(configured), _) => configured.trim().to_owned(),
        (None, Mode::Development) => {
            crate::secrets::load_or_create(&settings.data_dir.join("release-signing-dev.key"))
                .context("cannot keep the development signing key")?
        }
        (None, Mode::Production) => {
            anyhow::bail!("production mode needs `reporting.release.signing_key`")
        }
    };
    let seed: [u8; 32] = hex::decode(&hex_seed)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .context("`reporting.release.signing_key` must be 64 hex characters (32 bytes)")?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The public key of `key`, base64.
pub fn public_key(key: &SigningKey) -> String {
    STANDARD.encode(key.verifying_key().as_bytes())
}

/// A signed file.
#[derive(Debug, Clone)]
pub struct Signed {
    pub file: Vec<u8>,
    pub document_sha256: String,
    pub public_key: String,
}

/// Signs `document` (one line: no newline in it) with `key`.
pub fn sign(document: &[u8], key: &SigningKey) -> Signed {
    let seal = Seal {
        algorithm: "Ed25519".into(),
        public_key: public_key(key),
        signature: STANDARD.encode(key.sign(document).to_bytes()),
    };
    let mut file = document.to_vec();
    file.push(b'\n');
    // A struct of three strings always serialises.
    file.extend(serde_json::to_vec(&seal).unwrap_or_default());
    file.push(b'\n');
    Signed {
        file,
        document_sha256: hex::encode(Sha256::digest(document)),
        public_key: seal.public_key,
    }
}

/// Why a file does not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("not a signed file: {0}")]
    Malformed(String),
    #[error(
        "the signature does not match the document: the file was altered or not signed by this key"
    )]
    BadSignature,
    #[error("signed by {found}, not by the expected key {expected}")]
    OtherKey { found: String, expected: String },
}

/// A verified file: its document's bytes.
#[derive(Debug, Clone)]
pub struct Verified {
    pub document: Vec<u8>,
    pub document_sha256: String,
    pub public_key: String,
}

/// Checks `file`'s signature, and that it was made with `expected` (base64) when given.
pub fn verify(file: &[u8], expected: Option<&str>) -> Result<Verified, VerifyError> {
    let malformed = |what: &str| VerifyError::Malformed(what.to_owned());
    let newline = file
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| malformed("no second line"))?;
    let (body, rest) = (&file[..newline], &file[newline + 1..]);
    let seal_line = rest.strip_suffix(b"\n").unwrap_or(rest);
    let seal: Seal = serde_json::from_slice(seal_line)
        .map_err(|e| VerifyError::Malformed(format!("second line: {e}")))?;
    if seal.algorithm != "Ed25519" {
        return Err(malformed("the algorithm is not Ed25519"));
    }
    let key_bytes: [u8; 32] = STANDARD
        .decode(&seal.public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed("the public key is not 32 bytes of base64"))?;
    let signature: [u8; 64] = STANDARD
        .decode(&seal.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed("the signature is not 64 bytes of base64"))?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| VerifyError::BadSignature)?;
    key.verify_strict(body, &Signature::from_bytes(&signature))
        .map_err(|_| VerifyError::BadSignature)?;
    if let Some(expected) = expected
        && expected.trim() != seal.public_key
    {
        return Err(VerifyError::OtherKey {
            found: seal.public_key,
            expected: expected.trim().to_owned(),
        });
    }
    Ok(Verified {
        document: body.to_vec(),
        document_sha256: hex::encode(Sha256::digest(body)),
        public_key: seal.public_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_file_verifies_and_one_flipped_byte_does_not() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let signed = sign(br#"{"events":[1,2,3]}"#, &key);
        let verified = verify(&signed.file, Some(&public_key(&key))).unwrap();
        assert_eq!(verified.document, br#"{"events":[1,2,3]}"#);
        for at in 0..signed.file.len() - 1 {
            let mut altered = signed.file.clone();
            altered[at] ^= 0x01;
            assert!(
                verify(&altered, None).is_err(),
                "byte {at} flipped verifies"
            );
        }
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(matches!(
            verify(&signed.file, Some(&public_key(&other))),
            Err(VerifyError::OtherKey { .. })
        ));
    }
}
