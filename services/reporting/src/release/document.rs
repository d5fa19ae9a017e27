//! The release as one signed document, and its verification.
//!
//! The file is two lines: the document, one compact JSON object whose bytes are signed as they
//! are, and a JSON object with the Ed25519 public key and signature (base64). Verifying needs
//! nothing but the file (and, to know it is the office's, the office's published public key):
//! any changed byte of the document breaks the signature.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the document says it is.
pub const FORMAT: &str = "docket-release/1";

/// The document of a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub format: String,
    pub number: i64,
    pub title: String,
    /// RFC 3339, UTC, whole seconds.
    pub created_time: String,
    pub positions: Vec<Position>,
    pub settings: Shaping,
    /// Every earlier release, which the protection took into account.
    pub earlier_releases: Vec<EarlierRelease>,
    pub tables: Vec<Table>,
    /// Every cell as CSV: `table,measure,dimensions,keys,value,withheld`, dimensions and keys
    /// joined by `|`.
    pub tables_csv: String,
    pub audit: Audit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub stream: String,
    pub sequence: i64,
}

/// The settings that shaped the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shaping {
    pub threshold: i64,
    pub min_range: i64,
    pub catalogue: Vec<TableSpec>,
    pub gazetteer_sha256: String,
    pub publication: Publication,
}

/// What the published report says beside the figures: who publishes, the period, scope and
/// method (from settings), and the names of the parties and titles of the crime types that
/// appear in the tables, so that the signed file alone renders the report.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publication {
    pub office_name: String,
    /// As set; empty when the report gives the months of the incidents counted.
    pub period: String,
    pub scope: String,
    pub method: String,
    /// Party code to name.
    pub parties: std::collections::BTreeMap<String, String>,
    /// Crime type code to title.
    pub crime_types: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    pub name: String,
    pub measure: String,
    pub by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlierRelease {
    pub number: i64,
    pub document_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub name: String,
    pub measure: String,
    pub dimensions: Vec<String>,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    pub keys: Vec<String>,
    /// 0 when withheld.
    pub value: i64,
    pub withheld: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    pub threshold: i64,
    pub min_range: i64,
    pub primary_withheld: i64,
    pub secondary_withheld: i64,
    pub cells: Vec<AuditedCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditedCell {
    pub table: String,
    pub keys: Vec<String>,
    pub lower: f64,
    /// `None` when unbounded.
    pub upper: Option<f64>,
}

/// The CSV of `tables` (RFC 4180 quoting).
pub fn tables_csv(tables: &[Table]) -> String {
    fn field(text: &str) -> String {
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_owned()
        }
    }
    let mut csv = String::from("table,measure,dimensions,keys,value,withheld\n");
    for table in tables {
        for cell in &table.cells {
            let value = if cell.withheld {
                String::new()
            } else {
                cell.value.to_string()
            };
            csv.push_str(&format!(
                "{},{},{},{},{value},{}\n",
                field(&table.name),
                field(&table.measure),
                field(&table.dimensions.join("|")),
                field(&cell.keys.join("|")),
                cell.withheld
            ));
        }
    }
    csv
}

/// The second line of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Seal {
    algorithm: String,
    public_key: String,
    signature: String,
}

/// A signed file and what is known of it.
#[derive(Debug, Clone)]
pub struct Signed {
    pub file: Vec<u8>,
    pub document_sha256: String,
    pub public_key: String,
}

/// The public key of `key`, base64.
pub fn public_key(key: &SigningKey) -> String {
    STANDARD.encode(key.verifying_key().as_bytes())
}

/// Writes `document` and signs it with `key`.
pub fn sign(document: &Document, key: &SigningKey) -> Result<Signed, serde_json::Error> {
    let body = serde_json::to_vec(document)?;
    let seal = Seal {
        algorithm: "Ed25519".into(),
        public_key: public_key(key),
        signature: STANDARD.encode(key.sign(&body).to_bytes()),
    };
    let mut file = body.clone();
    file.push(b'\n');
    file.extend(serde_json::to_vec(&seal)?);
    file.push(b'\n');
    Ok(Signed {
        file,
        document_sha256: hex::encode(Sha256::digest(&body)),
        public_key: seal.public_key,
    })
}

/// Why a file does not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("not a signed release: {0}")]
    Malformed(String),
    #[error(
        "the signature does not match the document: the file was altered or not signed by this key"
    )]
    BadSignature,
    #[error("signed by {found}, not by the expected key {expected}")]
    OtherKey { found: String, expected: String },
}

/// A verified file.
#[derive(Debug, Clone)]
pub struct Verified {
    pub document: Document,
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
    let document: Document = serde_json::from_slice(body)
        .map_err(|e| VerifyError::Malformed(format!("document: {e}")))?;
    if document.format != FORMAT {
        return Err(malformed("unknown document format"));
    }
    Ok(Verified {
        document,
        document_sha256: hex::encode(Sha256::digest(body)),
        public_key: seal.public_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Document {
        let tables = vec![Table {
            name: "victims".into(),
            measure: "victims".into(),
            dimensions: vec![],
            cells: vec![Cell {
                keys: vec![],
                value: 39,
                withheld: false,
            }],
        }];
        Document {
            format: FORMAT.into(),
            number: 1,
            title: "October".into(),
            created_time: "2026-11-30T14:00:00Z".into(),
            positions: vec![],
            settings: Shaping {
                threshold: 5,
                min_range: 5,
                catalogue: vec![],
                gazetteer_sha256: String::new(),
                publication: Publication::default(),
            },
            earlier_releases: vec![],
            tables_csv: tables_csv(&tables),
            tables,
            audit: Audit {
                threshold: 5,
                min_range: 5,
                primary_withheld: 0,
                secondary_withheld: 0,
                cells: vec![],
            },
        }
    }

    #[test]
    fn a_signed_release_verifies_and_one_flipped_byte_does_not() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let signed = sign(&document(), &key).unwrap();
        let verified = verify(&signed.file, Some(&public_key(&key))).unwrap();
        assert_eq!(verified.document, document());
        let at = signed.file.windows(2).position(|w| w == b"39").unwrap();
        let mut altered = signed.file.clone();
        altered[at] ^= 0x01;
        assert!(matches!(
            verify(&altered, None),
            Err(VerifyError::BadSignature)
        ));
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(matches!(
            verify(&signed.file, Some(&public_key(&other))),
            Err(VerifyError::OtherKey { .. })
        ));
    }
}
