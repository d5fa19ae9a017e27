//! Sealing confidential fields at rest (source identities, later witness identities) with
//! AES-256-GCM, an authenticated cipher: a sealed value cannot be read without its key, nor
//! altered or moved to another row or field without the opening failing.
//!
//! A sealed value reads `v1:<key id>:<nonce hex>:<ciphertext hex>`. The key id lets keys rotate:
//! new values are sealed with the current key, and every configured key still opens what it
//! sealed. The context (for example `allegation/<id>/source_name`) is bound in as associated
//! data.

use std::collections::HashMap;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::settings::{Mode, Settings};

const VERSION: &str = "v1";
/// The version of a keyed fingerprint.
const FINGERPRINT_VERSION: &str = "f1";
/// What a fingerprint key is derived with from a sealing key, so the two never coincide.
const FINGERPRINT_KEY_LABEL: &[u8] = b"docket fingerprint key v1";
const NONCE_BYTES: usize = 12;
/// The id of the key generated for a development deployment.
const DEVELOPMENT_KEY_ID: &str = "dev";

/// Why sealing is not set up.
#[derive(Debug, thiserror::Error)]
pub enum SealingSetupError {
    #[error("production mode needs `sealing.keys` and `sealing.current_key_id`")]
    NoKeys,
    #[error("`sealing.current_key_id` {0:?} is not one of `sealing.keys`")]
    UnknownCurrentKey(String),
    #[error("`sealing.current_key_id` must be set when several keys are configured")]
    NoCurrentKey,
    #[error("sealing key {0:?} must be 64 hex characters (256 bits)")]
    BadKey(String),
    #[error("sealing key id {0:?} may hold only lower-case letters, digits and `-`")]
    BadKeyId(String),
    #[error("cannot keep the development sealing key: {0}")]
    DevelopmentKey(#[from] std::io::Error),
}

/// Why a value could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the sealed value names key {0:?}, which is not configured")]
    UnknownKey(String),
    #[error("the sealed value does not open: wrong key, wrong context, or altered")]
    Tampered,
    #[error("no randomness for a nonce: {0}")]
    Random(String),
}

/// Seals and opens confidential values.
#[derive(Clone)]
pub struct Sealer {
    current: String,
    keys: HashMap<String, Key>,
}

/// One configured key: the cipher that seals, and the MAC that fingerprints.
#[derive(Clone)]
struct Key {
    cipher: Aes256Gcm,
    fingerprints: Hmac<Sha256>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    pub fn from_settings(settings: &Settings) -> Result<Self, SealingSetupError> {
        let configured = &settings.sealing;
        if configured.keys.is_empty() {
            if settings.mode == Mode::Production {
                return Err(SealingSetupError::NoKeys);
            }
            let key = crate::secrets::load_or_create(&settings.data_dir.join("sealing-dev.key"))?;
            return Self::new(DEVELOPMENT_KEY_ID, [(DEVELOPMENT_KEY_ID, key.as_str())]);
        }
        let current = match (&configured.current_key_id, configured.keys.len()) {
            (Some(current), _) => current.clone(),
            (None, 1) => configured.keys.keys().next().cloned().unwrap_or_default(),
            (None, _) => return Err(SealingSetupError::NoCurrentKey),
        };
        Self::new(
            &current,
            configured
                .keys
                .iter()
                .map(|(id, key)| (id.as_str(), key.as_str())),
        )
    }

    /// A sealer over hex `keys` by id, sealing with `current`.
    pub fn new<'a>(
        current: &str,
        keys: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, SealingSetupError> {
        let mut ciphers = HashMap::new();
        for (id, key) in keys {
            let valid_id = !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid_id {
                return Err(SealingSetupError::BadKeyId(id.to_owned()));
            }
            let bad_key = || SealingSetupError::BadKey(id.to_owned());
            let bytes = hex::decode(key)
                .ok()
                .filter(|bytes| bytes.len() == 32)
                .ok_or_else(bad_key)?;
            let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| bad_key())?;
            let mut derive =
                <Hmac<Sha256> as Mac>::new_from_slice(&bytes).map_err(|_| bad_key())?;
            derive.update(FINGERPRINT_KEY_LABEL);
            let fingerprints =
                <Hmac<Sha256> as Mac>::new_from_slice(&derive.finalize().into_bytes())
                    .map_err(|_| bad_key())?;
            ciphers.insert(
                id.to_owned(),
                Key {
                    cipher,
                    fingerprints,
                },
            );
        }
        if !ciphers.contains_key(current) {
            return Err(SealingSetupError::UnknownCurrentKey(current.to_owned()));
        }
        Ok(Self {
            current: current.to_owned(),
            keys: ciphers,
        })
    }

    /// The id of the key new values are sealed with.
    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// Whether the key `id` is configured.
    pub fn has_key(&self, id: &str) -> bool {
        self.keys.contains_key(id)
    }

    /// Seals `plaintext` for `context` with the current key.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<String, SealError> {
        let cipher = &self
            .keys
            .get(&self.current)
            .ok_or_else(|| SealError::UnknownKey(self.current.clone()))?
            .cipher;
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| SealError::Random(e.to_string()))?;
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context.as_bytes(),
        };
        let ciphertext = cipher
            .encrypt(&Nonce::from(nonce), payload)
            .map_err(|_| SealError::Tampered)?;
        Ok(format!(
            "{VERSION}:{}:{}:{}",
            self.current,
            hex::encode(nonce),
            hex::encode(ciphertext)
        ))
    }

    /// Opens a value sealed for `context` by any configured key.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SealError> {
        let mut parts = sealed.split(':');
        let (Some(VERSION), Some(key_id), Some(nonce), Some(ciphertext), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(SealError::Malformed);
        };
        let cipher = &self
            .keys
            .get(key_id)
            .ok_or_else(|| SealError::UnknownKey(key_id.to_owned()))?
            .cipher;
        let nonce: [u8; NONCE_BYTES] = hex::decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(SealError::Malformed)?;
        let ciphertext = hex::decode(ciphertext).map_err(|_| SealError::Malformed)?;
        let payload = Payload {
            msg: &ciphertext,
            aad: context.as_bytes(),
        };
        let plaintext = cipher
            .decrypt(&Nonce::from(nonce), payload)
            .map_err(|_| SealError::Tampered)?;
        String::from_utf8(plaintext).map_err(|_| SealError::Malformed)
    }

    /// A keyed fingerprint of `digest` (a hash of something that holds sealed values) under the
    /// current key: `f1:<key id>:<hex>`. Without the key it reveals nothing of what was hashed,
    /// so no one can test candidate values against it.
    pub fn fingerprint(&self, digest: &[u8]) -> Result<String, SealError> {
        self.fingerprint_with(&self.current, digest)
    }

    /// Whether `stored`, a fingerprint, is that of `digest` under the key it names. A value
    /// that is not a fingerprint, or names a key no longer configured, matches nothing.
    pub fn fingerprint_matches(&self, stored: &str, digest: &[u8]) -> bool {
        let mut parts = stored.split(':');
        let (Some(FINGERPRINT_VERSION), Some(key_id), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        // Both are MACs under a secret key: comparing them in variable time reveals nothing.
        self.fingerprint_with(key_id, digest)
            .is_ok_and(|expected| expected == stored)
    }

    /// Whether `stored` is a fingerprint this sealer made (under any key), not a value from
    /// before fingerprints were keyed.
    pub fn is_fingerprint(stored: &str) -> bool {
        stored
            .strip_prefix(FINGERPRINT_VERSION)
            .is_some_and(|rest| rest.starts_with(':'))
    }

    fn fingerprint_with(&self, key_id: &str, digest: &[u8]) -> Result<String, SealError> {
        let mut mac = self
            .keys
            .get(key_id)
            .ok_or_else(|| SealError::UnknownKey(key_id.to_owned()))?
            .fingerprints
            .clone();
        mac.update(digest);
        Ok(format!(
            "{FINGERPRINT_VERSION}:{key_id}:{}",
            hex::encode(mac.finalize().into_bytes())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const K2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn a_sealed_value_opens_only_in_its_own_context() {
        let sealer = Sealer::new("k1", [("k1", K1)]).unwrap();
        let sealed = sealer
            .seal("Leyla Mammadova", "allegation/1/source_name")
            .unwrap();
        assert!(!sealed.contains("Leyla"));
        assert_eq!(
            sealer.open(&sealed, "allegation/1/source_name").unwrap(),
            "Leyla Mammadova"
        );
        assert!(matches!(
            sealer.open(&sealed, "allegation/2/source_name"),
            Err(SealError::Tampered)
        ));
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let sealer = Sealer::new("k1", [("k1", K1)]).unwrap();
        assert_ne!(
            sealer.seal("x", "c").unwrap(),
            sealer.seal("x", "c").unwrap()
        );
    }

    #[test]
    fn after_rotation_old_values_still_open_and_new_ones_use_the_new_key() {
        let before = Sealer::new("k1", [("k1", K1)]).unwrap();
        let old = before.seal("contact", "ctx").unwrap();
        let after = Sealer::new("k2", [("k1", K1), ("k2", K2)]).unwrap();
        assert_eq!(after.open(&old, "ctx").unwrap(), "contact");
        assert!(after.seal("new", "ctx").unwrap().starts_with("v1:k2:"));
        let without_old = Sealer::new("k2", [("k2", K2)]).unwrap();
        assert!(matches!(
            without_old.open(&old, "ctx"),
            Err(SealError::UnknownKey(_))
        ));
    }

    #[test]
    fn an_altered_value_is_refused() {
        let sealer = Sealer::new("k1", [("k1", K1)]).unwrap();
        let mut sealed = sealer.seal("secret", "ctx").unwrap();
        let last = sealed.pop().unwrap();
        sealed.push(if last == '0' { '1' } else { '0' });
        assert!(matches!(
            sealer.open(&sealed, "ctx"),
            Err(SealError::Tampered)
        ));
    }

    #[test]
    fn a_fingerprint_needs_the_key_and_survives_rotation() {
        let before = Sealer::new("k1", [("k1", K1)]).unwrap();
        let digest = [7u8; 32];
        let print = before.fingerprint(&digest).unwrap();
        assert!(print.starts_with("f1:k1:"));
        assert!(Sealer::is_fingerprint(&print));
        assert!(!Sealer::is_fingerprint(&hex::encode(digest)));
        assert!(!print.contains(&hex::encode(digest)));
        assert!(before.fingerprint_matches(&print, &digest));
        assert!(!before.fingerprint_matches(&print, &[8u8; 32]));
        assert!(!before.fingerprint_matches(&hex::encode(digest), &digest));
        let after = Sealer::new("k2", [("k1", K1), ("k2", K2)]).unwrap();
        assert!(after.fingerprint_matches(&print, &digest));
        assert!(after.fingerprint(&digest).unwrap().starts_with("f1:k2:"));
        let other = Sealer::new("k1", [("k1", K2)]).unwrap();
        assert!(!other.fingerprint_matches(&print, &digest));
    }

    #[test]
    fn bad_keys_are_refused_at_start() {
        assert!(Sealer::new("k1", [("k1", "abcd")]).is_err());
        assert!(Sealer::new("K1", [("K1", K1)]).is_err());
        assert!(Sealer::new("k9", [("k1", K1)]).is_err());
    }
}
