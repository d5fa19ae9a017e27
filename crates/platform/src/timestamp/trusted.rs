//! Asking the configured authority for a timestamp, keeping the token, checking it again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, Value};
use uuid::Uuid;
use x509_cert::Certificate;

use super::tsp;
use crate::db::placeholder;
use crate::settings::TimestampingSettings;

/// Why the timestamping settings of a service cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TimestampingSetupError {
    #[error("cannot read {section}.ca_file {}", path.display())]
    UnreadableCaFile {
        section: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{section}.ca_file {} is unusable: {why}", path.display())]
    UnusableCaFile {
        section: String,
        path: PathBuf,
        why: String,
    },
    #[error("{section}.policy `{policy}` is not a dotted OID")]
    BadPolicy { section: String, policy: String },
    #[error("{section}.url is set without {section}.ca_file: tokens could not be verified")]
    UrlWithoutCaFile { section: String },
    #[error("{section}.url `{url}` is not a URL")]
    BadUrl {
        section: String,
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("cannot build the HTTP client of the time-stamping authority")]
    Client(#[source] reqwest::Error),
}

/// Why the authority gave no usable token this time; all of them are worth asking again later.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("no time-stamping authority is configured ({section}.url)")]
    NotConfigured { section: String },
    #[error("the time-stamp query cannot be built: {0}")]
    Query(String),
    #[error("the time-stamping authority {url} cannot be reached")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the time-stamping authority {url} refused")]
    Refused {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the time-stamping authority's answer broke off")]
    BrokenAnswer(#[source] reqwest::Error),
    #[error("the time-stamping authority granted no token: {0}")]
    NoToken(String),
    #[error("the authority's token does not verify: {0}")]
    Unverified(String),
}

/// The configured authority.
#[derive(Debug)]
struct Authority {
    url: String,
    policy: Option<String>,
    client: reqwest::Client,
}

/// Timestamps of one service: asking for them, keeping them in its `trusted_timestamps`,
/// checking them.
#[derive(Debug, Clone)]
pub struct TrustedTime {
    pub(super) db: DatabaseConnection,
    /// Where the settings came from (`intake.timestamping`), for messages.
    section: Arc<str>,
    /// `None`: no authority configured; stored tokens are still shown.
    authority: Option<Arc<Authority>>,
    /// The CAs tokens must chain to (`ca_file`).
    trusted: Arc<Vec<Certificate>>,
    /// The policy tokens must carry, if configured.
    policy: Option<String>,
}

/// A token the authority granted, verified, not yet stored.
#[derive(Debug, Clone)]
pub struct Granted {
    /// The `TimeStampToken` (a CMS `ContentInfo`), DER.
    pub token: Vec<u8>,
    /// The nonce the query carried, big-endian.
    pub nonce: Vec<u8>,
    /// What the token says.
    pub stamp: tsp::Stamp,
    requested_policy: Option<String>,
    authority_url: String,
}

/// A stored token, and whether it verifies now.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The token as the authority signed it (DER).
    pub token: Vec<u8>,
    /// What it says when it verifies, or why it does not.
    pub checked: Result<tsp::Stamp, String>,
}

impl TrustedTime {
    /// From `settings`, read under `section` (for example `case_management.timestamping`): a
    /// `url` needs a `ca_file` of PEM certificates, and a `policy` must be a dotted OID; a
    /// `ca_file` alone still checks stored tokens.
    pub fn from_settings(
        db: DatabaseConnection,
        settings: &TimestampingSettings,
        section: &str,
    ) -> Result<Self, TimestampingSetupError> {
        let trusted = match &settings.ca_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| {
                    TimestampingSetupError::UnreadableCaFile {
                        section: section.to_owned(),
                        path: path.clone(),
                        source,
                    }
                })?;
                tsp::certificates_from_pem(&text).map_err(|why| {
                    TimestampingSetupError::UnusableCaFile {
                        section: section.to_owned(),
                        path: path.clone(),
                        why,
                    }
                })?
            }
            None => Vec::new(),
        };
        if let Some(policy) = &settings.policy {
            der::asn1::ObjectIdentifier::new(policy).map_err(|_| {
                TimestampingSetupError::BadPolicy {
                    section: section.to_owned(),
                    policy: policy.clone(),
                }
            })?;
        }
        let authority = match &settings.url {
            Some(url) => {
                if trusted.is_empty() {
                    return Err(TimestampingSetupError::UrlWithoutCaFile {
                        section: section.to_owned(),
                    });
                }
                url::Url::parse(url).map_err(|source| TimestampingSetupError::BadUrl {
                    section: section.to_owned(),
                    url: url.clone(),
                    source,
                })?;
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(settings.request_timeout_seconds.max(1)))
                    .build()
                    .map_err(TimestampingSetupError::Client)?;
                Some(Arc::new(Authority {
                    url: url.clone(),
                    policy: settings.policy.clone(),
                    client,
                }))
            }
            None => None,
        };
        Ok(Self {
            db,
            section: section.into(),
            authority,
            trusted: Arc::new(trusted),
            policy: settings.policy.clone(),
        })
    }

    /// Whether an authority is configured (and so timestamps are asked for).
    pub fn configured(&self) -> bool {
        self.authority.is_some()
    }

    /// Asks the authority for a timestamp of `sha256` and verifies the token it answers.
    pub async fn ask(&self, sha256: &[u8; 32]) -> Result<Granted, AskError> {
        let Some(authority) = &self.authority else {
            return Err(AskError::NotConfigured {
                section: self.section.to_string(),
            });
        };
        let query = tsp::query(sha256, authority.policy.as_deref()).map_err(AskError::Query)?;
        let reply = authority
            .client
            .post(&authority.url)
            .header("content-type", "application/timestamp-query")
            .header("accept", "application/timestamp-reply")
            .body(query.der.clone())
            .send()
            .await
            .map_err(|source| AskError::Unreachable {
                url: authority.url.clone(),
                source,
            })?
            .error_for_status()
            .map_err(|source| AskError::Refused {
                url: authority.url.clone(),
                source,
            })?
            .bytes()
            .await
            .map_err(AskError::BrokenAnswer)?;
        let token = tsp::token_of_reply(&reply).map_err(AskError::NoToken)?;
        let stamp = tsp::verify(
            &token,
            tsp::Expected {
                sha256,
                nonce: &query.nonce,
                policy: authority.policy.as_deref(),
            },
            &self.trusted,
        )
        .map_err(AskError::Unverified)?;
        Ok(Granted {
            token,
            nonce: query.nonce,
            stamp,
            requested_policy: authority.policy.clone(),
            authority_url: authority.url.clone(),
        })
    }

    /// The stored token of `subject` (of kind `kind`), verified again against the CA and policy
    /// configured now; `None` when there is none.
    pub async fn stored(&self, kind: &str, subject: &str) -> Result<Option<Stored>, DbErr> {
        let backend = self.db.get_database_backend();
        let sql = format!(
            "SELECT token, nonce, requested_policy FROM trusted_timestamps WHERE subject_kind = \
             {} AND subject = {}",
            placeholder(backend, 1),
            placeholder(backend, 2)
        );
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [kind.into(), subject.into()],
            ))
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let token: Vec<u8> = row.try_get_by_index(0)?;
        let nonce: String = row.try_get_by_index(1)?;
        let requested_policy: Option<String> = row.try_get_by_index(2)?;
        // The policy asked for when the token was obtained; one configured since must hold too.
        let policy = self.policy.as_deref().or(requested_policy.as_deref());
        let checked = digest_bytes(subject).and_then(|sha256| {
            tsp::verify(
                &token,
                tsp::Expected {
                    sha256: &sha256,
                    nonce: &hex::decode(&nonce).unwrap_or_default(),
                    policy,
                },
                &self.trusted,
            )
        });
        Ok(Some(Stored { token, checked }))
    }
}

impl Granted {
    /// Keeps the token as the timestamp of `subject` (of kind `kind`), in `conn` (a transaction
    /// of the caller's, or the database). A subject keeps its first token: returns whether this
    /// one was stored.
    pub async fn store<C: ConnectionTrait>(
        &self,
        conn: &C,
        kind: &str,
        subject: &str,
    ) -> Result<bool, DbErr> {
        let backend = conn.get_database_backend();
        let values: Vec<Value> = vec![
            Uuid::now_v7().into(),
            kind.into(),
            subject.into(),
            self.token.clone().into(),
            hex::encode(&self.nonce).into(),
            self.requested_policy.clone().into(),
            self.authority_url.clone().into(),
            self.stamp.authority.clone().into(),
            self.stamp.time_text.clone().into(),
            self.stamp.time.timestamp_millis().into(),
            self.stamp.serial.clone().into(),
            self.stamp.policy.clone().into(),
            Utc::now().timestamp_millis().into(),
        ];
        let marks: Vec<String> = (1..=values.len())
            .map(|n| placeholder(backend, n))
            .collect();
        let sql = format!(
            "INSERT INTO trusted_timestamps (id, subject_kind, subject, token, nonce, \
             requested_policy, authority_url, authority, gen_time, gen_time_ms, serial, policy, \
             created_ms) VALUES ({}) ON CONFLICT (subject_kind, subject) DO NOTHING",
            marks.join(", ")
        );
        let result = conn
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        Ok(result.rows_affected() > 0)
    }
}

/// The 32 bytes of a SHA-256 written in hex.
pub fn digest_bytes(sha256: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(sha256).map_err(|_| format!("`{sha256}` is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| format!("`{sha256}` is not a SHA-256"))
}
