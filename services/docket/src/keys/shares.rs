//! The exported keys split among several holders, any `threshold` of whom recover them (Shamir's
//! secret sharing over GF(256), byte by byte, with `blahaj`): fewer shares than the threshold
//! say nothing about the keys, so one lost or leaked share neither loses nor discloses them.
//!
//! A share is a small TOML text: which export it belongs to (`set`), the threshold, the number of
//! holders, its index, the SHA-256 of the whole export (to tell a wrong recovery from a right
//! one) and the share's bytes in hex. Each is written encrypted to its own holder's age
//! recipient.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One holder's share of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Share {
    /// The export this share belongs to: shares of different exports never combine.
    pub set: String,
    pub threshold: u8,
    pub holders: u8,
    pub index: u8,
    /// SHA-256 of the export, checked after recovery.
    pub export_sha256: String,
    /// The share (its x coordinate, then one byte per byte of the export), in hex.
    pub share: String,
}

/// Why shares do not give the keys back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShareError {
    #[error("no share given")]
    None,
    #[error(
        "{given} share(s) given ({indices}), but {threshold} of the {holders} are needed to \
         recover the keys: ask another holder"
    )]
    TooFew {
        given: usize,
        indices: String,
        threshold: u8,
        holders: u8,
    },
    #[error("share {index} belongs to another export than share {first}: use shares of one export")]
    OtherSet { index: u8, first: u8 },
    #[error("share {0} is damaged (not hex, or of another length than the others)")]
    Damaged(u8),
    #[error(
        "the shares combine to something that is not the export they were made from: one of \
         them is altered"
    )]
    WrongRecovery,
    #[error(
        "a threshold of {threshold} among {holders} holders cannot be: it takes 2 ≤ threshold ≤ holders ≤ 255"
    )]
    BadThreshold { threshold: usize, holders: usize },
}

/// Splits `export` into `holders` shares, any `threshold` of which recover it.
pub fn split(export: &[u8], threshold: usize, holders: usize) -> Result<Vec<Share>, ShareError> {
    let (Ok(t), Ok(n)) = (u8::try_from(threshold), u8::try_from(holders)) else {
        return Err(ShareError::BadThreshold { threshold, holders });
    };
    if t < 2 || t > n {
        return Err(ShareError::BadThreshold { threshold, holders });
    }
    let set = uuid::Uuid::new_v4().to_string();
    let export_sha256 = hex::encode(Sha256::digest(export));
    Ok(blahaj::Sharks(t)
        .dealer(export)
        .take(holders)
        .map(|share| {
            let bytes = Vec::from(&share);
            Share {
                set: set.clone(),
                threshold: t,
                holders: n,
                index: bytes.first().copied().unwrap_or_default(),
                export_sha256: export_sha256.clone(),
                share: hex::encode(&bytes),
            }
        })
        .collect())
}

/// Recovers the export from `shares` (the same share twice counts once).
pub fn combine(shares: &[Share]) -> Result<Vec<u8>, ShareError> {
    let first = shares.first().ok_or(ShareError::None)?;
    let mut distinct = BTreeMap::new();
    for share in shares {
        if (&share.set, share.threshold, &share.export_sha256)
            != (&first.set, first.threshold, &first.export_sha256)
        {
            return Err(ShareError::OtherSet {
                index: share.index,
                first: first.index,
            });
        }
        let bytes = hex::decode(&share.share).map_err(|_| ShareError::Damaged(share.index))?;
        let parsed = blahaj::Share::try_from(bytes.as_slice())
            .map_err(|_| ShareError::Damaged(share.index))?;
        if bytes.first() != Some(&share.index) {
            return Err(ShareError::Damaged(share.index));
        }
        distinct.insert(share.index, parsed);
    }
    if distinct.len() < usize::from(first.threshold) {
        return Err(ShareError::TooFew {
            given: distinct.len(),
            indices: distinct
                .keys()
                .map(|i| format!("share {i}"))
                .collect::<Vec<_>>()
                .join(", "),
            threshold: first.threshold,
            holders: first.holders,
        });
    }
    let parts: Vec<blahaj::Share> = distinct.into_values().collect();
    let export = blahaj::Sharks(first.threshold)
        .recover(&parts)
        .map_err(|_| ShareError::Damaged(first.index))?;
    if hex::encode(Sha256::digest(&export)) != first.export_sha256 {
        return Err(ShareError::WrongRecovery);
    }
    Ok(export)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &[u8] = b"[sealing]\ncurrent_key_id = \"dev\"\n";

    #[test]
    fn any_two_of_three_recover_the_export_and_one_does_not() {
        let shares = split(EXPORT, 2, 3).unwrap();
        assert_eq!(shares.len(), 3);
        for pair in [[0, 1], [1, 2], [0, 2], [2, 0]] {
            let chosen = [shares[pair[0]].clone(), shares[pair[1]].clone()];
            assert_eq!(combine(&chosen).unwrap(), EXPORT, "{pair:?}");
        }
        let one = combine(&shares[..1]).unwrap_err();
        assert!(matches!(one, ShareError::TooFew { given: 1, .. }), "{one}");
        assert!(one.to_string().contains("2 of the 3"), "{one}");
        let twice = combine(&[shares[0].clone(), shares[0].clone()]).unwrap_err();
        assert!(matches!(twice, ShareError::TooFew { given: 1, .. }));
        // One share alone holds nothing of the export in clear.
        let bytes = hex::decode(&shares[0].share).unwrap();
        assert!(!bytes.windows(7).any(|w| w == b"sealing"));
    }

    #[test]
    fn altered_or_foreign_shares_are_refused() {
        let shares = split(EXPORT, 2, 3).unwrap();
        let other = split(EXPORT, 2, 3).unwrap();
        assert!(matches!(
            combine(&[shares[0].clone(), other[1].clone()]),
            Err(ShareError::OtherSet { .. })
        ));
        let mut altered = shares[1].clone();
        let mut bytes = hex::decode(&altered.share).unwrap();
        bytes[3] ^= 1;
        altered.share = hex::encode(bytes);
        assert_eq!(
            combine(&[shares[0].clone(), altered]),
            Err(ShareError::WrongRecovery)
        );
        assert!(split(EXPORT, 1, 3).is_err());
        assert!(split(EXPORT, 4, 3).is_err());
        assert!(split(EXPORT, 2, 300).is_err());
    }
}
