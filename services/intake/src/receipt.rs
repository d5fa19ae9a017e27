//! Receipts for anonymous sources: a secret that alone lets a source ask about its allegation.
//!
//! A receipt is derived from the allegation id with a keyed hash (HMAC-SHA-256), so a retried
//! submission can hand the same receipt out again, while the database keeps only a SHA-256 of it
//! and reveals nothing that would let anyone recompute it without the key.

use anyhow::Context;
use docket_platform::{Mode, Settings};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Crockford's base 32: no I, L, O or U, so a receipt survives being read out over a phone.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Bytes of the keyed hash kept in a receipt: 160 bits, 32 characters.
const RECEIPT_BYTES: usize = 20;
/// The least key length accepted, in bytes.
const MIN_KEY_BYTES: usize = 32;

/// The key receipts are derived with.
#[derive(Clone)]
pub struct ReceiptKey(Hmac<Sha256>);

impl std::fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiptKey(…)")
    }
}

impl ReceiptKey {
    pub fn new(key: impl Into<Vec<u8>>) -> anyhow::Result<Self> {
        let key = key.into();
        anyhow::ensure!(
            key.len() >= MIN_KEY_BYTES,
            "the receipt key must be at least {MIN_KEY_BYTES} bytes"
        );
        let mac = Hmac::<Sha256>::new_from_slice(&key)
            .map_err(|_| anyhow::anyhow!("the receipt key is not a usable HMAC key"))?;
        Ok(Self(mac))
    }

    /// The configured `intake.receipt_key`; in development, when none is configured, one
    /// generated once and kept in `data_dir/intake-receipt.key`.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        if let Some(key) = &settings.intake.receipt_key {
            return Self::new(key.as_bytes());
        }
        anyhow::ensure!(
            settings.mode == Mode::Development,
            "production mode needs `intake.receipt_key`, shared by every intake replica"
        );
        let file = settings.data_dir.join("intake-receipt.key");
        let key = docket_platform::secrets::load_or_create(&file)
            .with_context(|| format!("cannot keep the receipt key in {}", file.display()))?;
        Self::new(key.into_bytes())
    }

    /// The receipt of allegation `id`, grouped in fours: `XXXX-XXXX-…`.
    pub fn receipt(&self, id: Uuid) -> String {
        let mut mac = self.0.clone();
        mac.update(b"docket receipt v1:");
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let text = base32(&digest[..RECEIPT_BYTES]);
        let groups: Vec<&str> = text
            .as_bytes()
            .chunks(4)
            .filter_map(|chunk| std::str::from_utf8(chunk).ok())
            .collect();
        groups.join("-")
    }
}

/// What the database keeps of a receipt: the SHA-256 of its characters without separators, in
/// upper case, so that a source may type it either way.
pub fn receipt_hash(receipt: &str) -> String {
    let normalised: String = receipt
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_is_stable_per_allegation_and_differs_between_them() {
        let key = ReceiptKey::new(vec![7; 32]).unwrap();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(key.receipt(a), key.receipt(a));
        assert_ne!(key.receipt(a), key.receipt(b));
        assert_eq!(key.receipt(a).len(), 39);
    }

    #[test]
    fn the_hash_ignores_case_and_separators() {
        assert_eq!(receipt_hash("ABCD-EFGH"), receipt_hash("abcdefgh"));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(ReceiptKey::new(vec![1; 8]).is_err());
    }

    #[test]
    fn base32_encodes_five_bits_per_character() {
        assert_eq!(base32(&[0xff]), "ZW");
        assert_eq!(base32(&[0, 0, 0, 0, 0]), "00000000");
    }
}
