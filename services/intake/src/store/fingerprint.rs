//! Recognising a retried submission without keeping anything a dictionary attack could use.
//!
//! A retry must be told from a request id reused for another allegation, so each allegation
//! keeps a fingerprint of the message that created it. The message holds the source's name
//! and contact: an unkeyed hash of it would let anyone with a copy of the database rebuild the
//! message from the row's clear fields, hash it with candidate names, and find the source. The
//! fingerprint is therefore keyed ([`Sealer::fingerprint`]): an HMAC under a key held like the
//! sealing keys, of the SHA-256 of the message. Databases written before kept that SHA-256
//! itself; [`AllegationStore::rekey_fingerprints`] replaces each with its keyed form at start,
//! which is exactly the fingerprint a retry of the same message computes, so retries of
//! allegations submitted before the upgrade are still recognised.

use docket_platform::db::{begin_write, placeholder};
use docket_platform::sealing::Sealer;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DbBackend, QuerySelect, Statement};

use super::AllegationStore;
use crate::entity::allegation;
use crate::error::IntakeError;

/// The SHA-256 of a submitted message. It is computed from sealed values, so it is kept in
/// memory only, never stored, logged or shown (its `Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct MessageDigest([u8; 32]);

impl MessageDigest {
    pub fn new(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for MessageDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MessageDigest(…)")
    }
}

/// Allegations rekeyed per transaction.
const REKEY_BATCH: u64 = 500;

impl AllegationStore {
    /// The keyed fingerprint of a message to store.
    pub fn fingerprint(&self, digest: &MessageDigest) -> Result<String, IntakeError> {
        self.sealer
            .fingerprint(digest.as_bytes())
            .map_err(IntakeError::Sealing)
    }

    /// Whether `stored`, the fingerprint of a stored allegation, is that of the message whose
    /// SHA-256 is `digest`.
    pub(super) fn same_message(&self, stored: &str, digest: &MessageDigest) -> bool {
        if Sealer::is_fingerprint(stored) {
            self.sealer.fingerprint_matches(stored, digest.as_bytes())
        } else {
            // Written by a replica of an earlier version during a rolling upgrade; rekeyed at
            // the next start.
            stored == hex::encode(digest.as_bytes())
        }
    }

    /// Replaces every unkeyed fingerprint (the SHA-256 of a message, as versions before keyed
    /// fingerprints stored it) with its keyed form; returns how many it replaced. On SQLite the
    /// old values are overwritten with zeros where they lay (`secure_delete`) and the WAL that
    /// still held them is emptied. Safe to run by several replicas at once.
    pub async fn rekey_fingerprints(&self) -> Result<u64, IntakeError> {
        let backend = self.db.get_database_backend();
        let mut rekeyed = 0;
        loop {
            let txn = begin_write(&self.db).await?;
            if backend == DbBackend::Sqlite {
                txn.execute_unprepared("PRAGMA secure_delete = ON").await?;
            }
            let unkeyed: Vec<(Uuid, String)> = allegation::Entity::find()
                .select_only()
                .column(allegation::Column::Id)
                .column(allegation::Column::RequestFingerprint)
                .filter(allegation::Column::RequestFingerprint.not_like("f1:%"))
                .limit(REKEY_BATCH)
                .into_tuple()
                .all(&txn)
                .await?;
            if unkeyed.is_empty() {
                break;
            }
            let sql = format!(
                "UPDATE allegations SET request_fingerprint = {} WHERE id = {} \
                 AND request_fingerprint = {}",
                placeholder(backend, 1),
                placeholder(backend, 2),
                placeholder(backend, 3)
            );
            let mut written = 0;
            for (id, old) in unkeyed {
                // Anything else than a SHA-256 in hex is keyed as it is: it matches no retry,
                // as it matched none before.
                let digest = hex::decode(&old).unwrap_or_else(|_| old.clone().into_bytes());
                let keyed = self
                    .sealer
                    .fingerprint(&digest)
                    .map_err(IntakeError::Sealing)?;
                written += txn
                    .execute_raw(Statement::from_sql_and_values(
                        backend,
                        sql.clone(),
                        [keyed.into(), id.into(), old.into()],
                    ))
                    .await?
                    .rows_affected();
            }
            txn.commit().await?;
            if written == 0 {
                // Nothing this batch found could be rewritten: never loop on it.
                tracing::warn!("unkeyed fingerprints remain that could not be rekeyed");
                break;
            }
            rekeyed += written;
        }
        if rekeyed > 0 && backend == DbBackend::Sqlite {
            self.db
                .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
        }
        Ok(rekeyed)
    }
}
