//! Content Credentials: the C2PA manifest a camera, an editor or a newsroom embeds in a file to
//! say who made it, with what, and what was done to it, signed. Intake reads it with the C2PA
//! project's reader (`c2pa`) and keeps what it says with the evidence.
//!
//! After an upload commits, a [`crate::jobs`] job of kind [`JobKind::ContentCredentials`]
//! copies the bytes to a private scratch file, reads and validates the manifest on a blocking
//! thread ([`read`]), and stores the result in `content_credentials`, one row per content, with
//! the job's completion: the upload is never slowed, and a crash neither loses nor repeats the
//! reading. A file without a manifest gets a row too (`no_manifest`). Validation is as of the
//! reading, with the trust anchors configured then (`intake.content_credentials`); nothing is
//! fetched (no remote manifests, no OCSP).
//!
//! What is kept is read from the evidence bytes only (DESIGN.md, "Trust"): no sealed value is
//! involved.

pub mod read;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::{TimeZone, Utc};
use docket_platform::db::placeholder;
use docket_platform::settings::ContentCredentialsSettings;
use docket_proto::docket::intake::v1 as pb;
use futures_util::StreamExt;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryOrder, Statement, Value};
use tokio::io::AsyncWriteExt;

use crate::entity::evidence;
use crate::evidence::BlobStore;
use crate::jobs::{Claimed, JobKind, JobOutcome, JobQueue, JobState};
use read::{CredentialReader, Reading, State};

/// Reading Content Credentials, and keeping what they say.
#[derive(Debug, Clone)]
pub struct ContentCredentials {
    db: DatabaseConnection,
    blobs: BlobStore,
    reader: Arc<CredentialReader>,
    /// Where files are copied to be read, each in a private file of its own.
    scratch: PathBuf,
}

impl ContentCredentials {
    /// From `settings`: a `trust_anchors_file` must hold PEM certificates.
    pub fn from_settings(
        db: DatabaseConnection,
        blobs: BlobStore,
        scratch: PathBuf,
        settings: &ContentCredentialsSettings,
    ) -> anyhow::Result<Self> {
        let anchors = match &settings.trust_anchors_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "cannot read intake.content_credentials.trust_anchors_file {}",
                        path.display()
                    )
                })?;
                docket_platform::timestamp::tsp::certificates_from_pem(&text)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| {
                        format!(
                            "intake.content_credentials.trust_anchors_file {} is unusable",
                            path.display()
                        )
                    })?;
                Some(text)
            }
            None => None,
        };
        Ok(Self {
            db,
            blobs,
            reader: Arc::new(CredentialReader::new(anchors.as_deref())?),
            scratch,
        })
    }

    /// Enqueues a reading of every stored content that has no job for one (evidence stored
    /// before this version); returns how many.
    pub async fn enqueue_missing(&self) -> Result<u64, DbErr> {
        let backend = self.db.get_database_backend();
        let sql = format!(
            "SELECT DISTINCT e.sha256 FROM evidence e WHERE NOT EXISTS (SELECT 1 FROM \
             post_upload_jobs j WHERE j.kind = {} AND j.subject = e.sha256) ORDER BY e.sha256",
            placeholder(backend, 1)
        );
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [JobKind::ContentCredentials.code().into()],
            ))
            .await?;
        let mut enqueued = 0;
        for row in rows {
            let sha256: String = row.try_get_by_index(0)?;
            JobQueue::enqueue(&self.db, JobKind::ContentCredentials, &sha256).await?;
            enqueued += 1;
        }
        Ok(enqueued)
    }

    /// The job: reads the manifest of the bytes `job.subject` and keeps what it says with the
    /// job's completion. Only I/O failures are errors (retried); whatever the file holds is a
    /// result.
    pub async fn run(&self, queue: &JobQueue, job: &Claimed) -> anyhow::Result<JobOutcome> {
        let record = evidence::Entity::find()
            .filter(evidence::Column::Sha256.eq(job.subject.as_str()))
            .order_by_asc(evidence::Column::Id)
            .one(&self.db)
            .await?;
        let Some(record) = record else {
            return Ok(JobOutcome::Done {
                txn: queue.begin().await?,
                outcome: "not read: no evidence record has these bytes".to_owned(),
            });
        };
        let format = record
            .detected_media_type
            .clone()
            .or_else(|| record.declared_media_type.clone())
            .filter(|format| !format.is_empty());
        let reading = match format {
            Some(format) => self.read(&job.subject, format).await?,
            None => Reading::no_manifest(
                "the file's type is not recognised: no C2PA manifest can be read",
            ),
        };
        let txn = queue.begin().await?;
        store(&txn, &job.subject, &reading).await?;
        let outcome = match reading.state {
            State::NoManifest => format!("no manifest: {}", reading.detail),
            state @ (State::Valid | State::Trusted | State::Invalid) => format!(
                "manifest {}: {} signed by {}",
                state.code(),
                reading.manifest_label,
                reading.signer_subject
            ),
        };
        Ok(JobOutcome::Done { txn, outcome })
    }

    async fn read(&self, sha256: &str, format: String) -> anyhow::Result<Reading> {
        std::fs::create_dir_all(&self.scratch)
            .with_context(|| format!("cannot create {}", self.scratch.display()))?;
        // Private (0600) and removed when dropped, whatever happens.
        let copy = tempfile::Builder::new()
            .prefix("c2pa-")
            .tempfile_in(&self.scratch)
            .context("cannot create a scratch file")?;
        let mut stream = self.blobs.read(sha256).await?;
        let mut file = tokio::fs::File::from_std(copy.reopen()?);
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk?).await?;
        }
        file.flush().await?;
        drop(file);
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || reader.read(&format, copy.path()))
            .await
            .map_err(|error| anyhow::anyhow!("reading a C2PA manifest: {error}"))?
    }
}

async fn store<C: ConnectionTrait>(conn: &C, sha256: &str, reading: &Reading) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let p = |n| placeholder(backend, n);
    let sql = format!(
        "INSERT INTO content_credentials (id, sha256, state, detail, manifest_label, \
         signer_subject, signer_issuer, signed_time, claim_generator, actions, failures, read_ms) \
         VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT (sha256) DO NOTHING",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(7),
        p(8),
        p(9),
        p(10),
        p(11),
        p(12)
    );
    let values: Vec<Value> = vec![
        Uuid::now_v7().into(),
        sha256.into(),
        reading.state.code().into(),
        reading.detail.clone().into(),
        reading.manifest_label.clone().into(),
        reading.signer_subject.clone().into(),
        reading.signer_issuer.clone().into(),
        reading.signed_time.clone().into(),
        reading.claim_generator.clone().into(),
        serde_json::to_string(&reading.actions)
            .unwrap_or_else(|_| "[]".to_owned())
            .into(),
        serde_json::to_string(&reading.failures)
            .unwrap_or_else(|_| "[]".to_owned())
            .into(),
        Utc::now().timestamp_millis().into(),
    ];
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// What is known of the Content Credentials of each of `hashes`: the stored reading, or where
/// its job stands (pending, or failed with its last error).
pub async fn shown<C: ConnectionTrait>(
    conn: &C,
    hashes: &[String],
) -> Result<HashMap<String, pb::ContentCredentials>, DbErr> {
    let mut shown = HashMap::new();
    if hashes.is_empty() {
        return Ok(shown);
    }
    let backend = conn.get_database_backend();
    let mut unique: Vec<&String> = hashes.iter().collect();
    unique.sort();
    unique.dedup();
    for batch in unique.chunks(500) {
        let marks: Vec<String> = (1..=batch.len()).map(|n| placeholder(backend, n)).collect();
        let sql = format!(
            "SELECT sha256, state, detail, manifest_label, signer_subject, signer_issuer, \
             signed_time, claim_generator, actions, failures, read_ms FROM content_credentials \
             WHERE sha256 IN ({})",
            marks.join(", ")
        );
        let values: Vec<Value> = batch.iter().map(|hash| (*hash).clone().into()).collect();
        for row in conn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
        {
            let sha256: String = row.try_get_by_index(0)?;
            let state: String = row.try_get_by_index(1)?;
            let state = match State::from_code(&state) {
                Some(State::NoManifest) => pb::ContentCredentialsState::NoManifest,
                Some(State::Valid) => pb::ContentCredentialsState::Valid,
                Some(State::Trusted) => pb::ContentCredentialsState::Trusted,
                Some(State::Invalid) => pb::ContentCredentialsState::Invalid,
                None => pb::ContentCredentialsState::Unspecified,
            };
            let actions: String = row.try_get_by_index(8)?;
            let failures: String = row.try_get_by_index(9)?;
            let actions: Vec<read::Action> = serde_json::from_str(&actions).unwrap_or_default();
            let failures: Vec<read::Failure> = serde_json::from_str(&failures).unwrap_or_default();
            let read_ms: i64 = row.try_get_by_index(10)?;
            shown.insert(
                sha256,
                pb::ContentCredentials {
                    state: state.into(),
                    detail: row.try_get_by_index(2)?,
                    manifest_label: row.try_get_by_index(3)?,
                    signer_subject: row.try_get_by_index(4)?,
                    signer_issuer: row.try_get_by_index(5)?,
                    signed_time: row.try_get_by_index(6)?,
                    claim_generator: row.try_get_by_index(7)?,
                    actions: actions
                        .into_iter()
                        .map(|action| pb::ContentCredentialsAction {
                            action: action.action,
                            software_agent: action.software_agent,
                            when: action.when,
                            digital_source_type: action.digital_source_type,
                        })
                        .collect(),
                    failures: failures
                        .into_iter()
                        .map(|failure| pb::ContentCredentialsFailure {
                            code: failure.code,
                            explanation: failure.explanation,
                        })
                        .collect(),
                    read_time: Utc
                        .timestamp_millis_opt(read_ms)
                        .single()
                        .map(docket_proto::timestamp),
                },
            );
        }
    }
    // Not read yet: pending, unless its job was given up.
    let unread: Vec<&String> = unique
        .into_iter()
        .filter(|hash| !shown.contains_key(*hash))
        .collect();
    for batch in unread.chunks(500) {
        let marks: Vec<String> = (2..=batch.len() + 1)
            .map(|n| placeholder(backend, n))
            .collect();
        let sql = format!(
            "SELECT subject, state, outcome FROM post_upload_jobs WHERE kind = {} AND subject \
             IN ({})",
            placeholder(backend, 1),
            marks.join(", ")
        );
        let mut values: Vec<Value> = vec![JobKind::ContentCredentials.code().into()];
        values.extend(batch.iter().map(|hash| Value::from((*hash).clone())));
        let mut failed = HashMap::new();
        for row in conn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
        {
            let state: String = row.try_get_by_index(1)?;
            if JobState::from_code(&state) == Some(JobState::Failed) {
                let outcome: Option<String> = row.try_get_by_index(2)?;
                failed.insert(row.try_get_by_index::<String>(0)?, outcome);
            }
        }
        for hash in batch {
            let message = match failed.remove(*hash) {
                Some(outcome) => pb::ContentCredentials {
                    state: pb::ContentCredentialsState::Failed.into(),
                    detail: outcome.unwrap_or_default(),
                    ..Default::default()
                },
                None => pb::ContentCredentials {
                    state: pb::ContentCredentialsState::Pending.into(),
                    ..Default::default()
                },
            };
            shown.insert((*hash).clone(), message);
        }
    }
    Ok(shown)
}
