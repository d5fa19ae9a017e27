//! Bearer tokens (JWT): verified against the configured keys, minted for development.
//!
//! Each accepted key is bound to the one algorithm of its kind (HS256 for the development
//! secret, EdDSA for Ed25519 keys, RS256 for RSA keys), so a token cannot choose how it is
//! checked: `alg: none` names no key, and an HS256 token "signed" with a public key matches no
//! HS256 secret.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
    get_current_timestamp,
};
use serde::{Deserialize, Serialize};

use super::{Caller, Role};
use crate::settings::{Mode, Settings};

/// The least length of the development HS256 secret, in bytes.
const MIN_SECRET_BYTES: usize = 32;

/// The claims of a Docket token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
}

/// Why the token settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("production mode needs `auth.public_keys_file`")]
    NoPublicKeys,
    #[error("production mode needs `auth.service_token_file` for calls to other services")]
    NoServiceToken,
    #[error("`auth.hs256_secret` is for development only; production accepts EdDSA or RS256")]
    SecretInProduction,
    #[error("the HS256 secret must be at least {MIN_SECRET_BYTES} bytes")]
    ShortSecret,
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no Ed25519 or RSA public key in PEM form")]
    NoKeyInFile { path: PathBuf },
    #[error(
        "`docket token` mints development tokens only; production tokens come from the office's identity provider"
    )]
    NotDevelopment,
    #[error("cannot sign the token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Why a call's token was refused. Logged; the client only learns `UNAUTHENTICATED`.
#[derive(Debug, thiserror::Error)]
pub enum TokenRejected {
    #[error("no bearer token")]
    Missing,
    #[error("the authorization header is not `Bearer <token>`")]
    Malformed,
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(String),
    #[error("{0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("{0}")]
    Role(#[from] super::UnknownRole),
    #[error("the subject {0}")]
    Subject(&'static str),
}

/// The longest subject accepted, in bytes: names of people and systems, not documents.
pub const MAX_SUBJECT_BYTES: usize = 256;

/// Why `subject` cannot name a caller, if it cannot. A subject goes into every audit entry and
/// log line of its calls: it must be there, printable, and of a sane length.
fn unusable_subject(subject: &str) -> Option<&'static str> {
    if subject.is_empty() {
        Some("is empty")
    } else if subject.len() > MAX_SUBJECT_BYTES {
        Some("is too long")
    } else if subject
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_invisible_format(c))
    {
        Some("holds white space, control or invisible formatting characters")
    } else {
        None
    }
}

/// Unicode format characters that change how text around them reads (bidirectional overrides
/// and isolates, zero-width characters, the byte-order mark): a subject holding one could pass
/// for another in a log or an audit listing.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{00AD}' | '\u{061C}')
}

struct VerifyingKey {
    key: DecodingKey,
    validation: Validation,
}

/// Checks bearer tokens against the configured keys.
pub struct TokenVerifier {
    keys: Vec<VerifyingKey>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let algorithms: Vec<Algorithm> = self
            .keys
            .iter()
            .map(|k| k.validation.algorithms[0])
            .collect();
        f.debug_struct("TokenVerifier")
            .field("algorithms", &algorithms)
            .finish()
    }
}

impl TokenVerifier {
    pub fn from_settings(settings: &Settings) -> Result<Self, AuthSetupError> {
        let mut keys = Vec::new();
        match settings.mode {
            Mode::Development => {
                let secret = development_secret(settings)?;
                keys.push(VerifyingKey {
                    key: DecodingKey::from_secret(secret.as_bytes()),
                    validation: validation(settings, Algorithm::HS256),
                });
            }
            Mode::Production => {
                if settings.auth.hs256_secret.is_some() {
                    return Err(AuthSetupError::SecretInProduction);
                }
                if settings.auth.public_keys_file.is_none() {
                    return Err(AuthSetupError::NoPublicKeys);
                }
            }
        }
        if let Some(path) = &settings.auth.public_keys_file {
            for (key, algorithm) in public_keys(path)? {
                keys.push(VerifyingKey {
                    key,
                    validation: validation(settings, algorithm),
                });
            }
        }
        Ok(Self { keys })
    }

    /// The caller a token names, if the token is genuine, current, and meant for Docket.
    pub fn verify(&self, token: &str) -> Result<Caller, TokenRejected> {
        let header = decode_header(token)?;
        let mut last = TokenRejected::Algorithm(format!("{:?}", header.alg));
        for candidate in self
            .keys
            .iter()
            .filter(|k| k.validation.algorithms.contains(&header.alg))
        {
            match decode::<Claims>(token, &candidate.key, &candidate.validation) {
                Ok(data) => {
                    if let Some(reason) = unusable_subject(&data.claims.sub) {
                        return Err(TokenRejected::Subject(reason));
                    }
                    return Ok(Caller {
                        subject: data.claims.sub,
                        role: data.claims.role.parse()?,
                    });
                }
                Err(error) => last = TokenRejected::Invalid(error),
            }
        }
        Err(last)
    }
}

/// Mints development tokens with the HS256 secret the services of this deployment accept.
pub struct TokenIssuer {
    key: EncodingKey,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl TokenIssuer {
    pub fn development(settings: &Settings) -> Result<Self, AuthSetupError> {
        if settings.mode != Mode::Development {
            return Err(AuthSetupError::NotDevelopment);
        }
        let secret = development_secret(settings)?;
        Ok(Self {
            key: EncodingKey::from_secret(secret.as_bytes()),
            issuer: settings.auth.issuer.clone(),
            audience: settings.auth.audience.clone(),
        })
    }

    /// A token for `subject` in `role`, valid from now for `ttl`.
    pub fn mint(&self, subject: &str, role: Role, ttl: Duration) -> Result<String, AuthSetupError> {
        let now = get_current_timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            role: role.as_str().to_owned(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl.as_secs()),
        };
        Ok(encode(&Header::new(Algorithm::HS256), &claims, &self.key)?)
    }
}

fn development_secret(settings: &Settings) -> Result<String, AuthSetupError> {
    let secret = match &settings.auth.hs256_secret {
        Some(secret) => secret.clone(),
        None => {
            let path = settings.data_dir.join("auth-hs256.secret");
            crate::secrets::load_or_create(&path)
                .map_err(|source| AuthSetupError::Read { path, source })?
        }
    };
    if secret.len() < MIN_SECRET_BYTES {
        return Err(AuthSetupError::ShortSecret);
    }
    Ok(secret)
}

fn validation(settings: &Settings, algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[&settings.auth.issuer]);
    validation.set_audience(&[&settings.auth.audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = settings.auth.leeway_seconds;
    validation
}

/// Every Ed25519 or RSA public key in a PEM file, each with the one algorithm it verifies.
fn public_keys(path: &Path) -> Result<Vec<(DecodingKey, Algorithm)>, AuthSetupError> {
    let text = std::fs::read_to_string(path).map_err(|source| AuthSetupError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut keys = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("-----BEGIN ") {
        let Some(end_marker) = rest[start..].find("-----END ") else {
            break;
        };
        let end = rest[start + end_marker..]
            .find("\n")
            .map_or(rest.len(), |newline| start + end_marker + newline + 1);
        let block = &rest.as_bytes()[start..end];
        if let Ok(key) = DecodingKey::from_ed_pem(block) {
            keys.push((key, Algorithm::EdDSA));
        } else if let Ok(key) = DecodingKey::from_rsa_pem(block) {
            keys.push((key, Algorithm::RS256));
        }
        rest = &rest[end..];
    }
    if keys.is_empty() {
        return Err(AuthSetupError::NoKeyInFile {
            path: path.to_owned(),
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_printable_subjects_of_a_sane_length_name_a_caller() {
        for good in [
            "officer.aliyev",
            "intake",
            "svc:reporting@docket",
            "Ağa.Məmmədov",
        ] {
            assert_eq!(unusable_subject(good), None, "{good}");
        }
        let long = "a".repeat(MAX_SUBJECT_BYTES + 1);
        for bad in [
            "",
            " ",
            "officer aliyev",
            "officer\n2026-11-30 forged log line",
            "\u{7}",
            "admin\u{202E}verof",
            "\u{200B}",
            long.as_str(),
        ] {
            assert!(unusable_subject(bad).is_some(), "{bad:?}");
        }
    }
}
