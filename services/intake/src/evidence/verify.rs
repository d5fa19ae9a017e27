//! Re-reading stored files and comparing them with the hash they are stored under, streaming a
//! result per file as it is checked (a whole store outlasts any request timeout), and recording
//! the repair of one that an upload of the same bytes healed.

use docket_domain::evidence::CustodyEventKind;
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::journal;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, QuerySelect};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tracing::Instrument as _;

use super::EvidenceDesk;
use super::blobs::{Condition, Damage};
use super::records::{self, record_custody};
use crate::entity::evidence;
use crate::error::IntakeError;

/// The messages of a verification.
pub type VerifyStream = ReceiverStream<Result<pb::VerifyEvidenceResponse, Status>>;

/// Results waiting to be sent: the verification runs at most this far ahead of its client.
const QUEUED_CHECKS: usize = 16;

impl EvidenceDesk {
    /// Re-reads the file of evidence `id`, or every file when `None`, in the background, and
    /// streams one message per file as it is checked; records a custody event for every record
    /// checked. An unknown `id` is refused before the stream starts; a client that goes away
    /// stops the verification at the next file.
    pub async fn verify(
        &self,
        call: &CallContext,
        id: Option<Uuid>,
    ) -> Result<VerifyStream, IntakeError> {
        let digests: Vec<String> = match id {
            Some(id) => vec![records::find(&self.db, id).await?.sha256],
            None => {
                evidence::Entity::find()
                    .select_only()
                    .column(evidence::Column::Sha256)
                    .distinct()
                    .order_by_asc(evidence::Column::Sha256)
                    .into_tuple()
                    .all(&self.db)
                    .await?
            }
        };
        let (sender, receiver) = mpsc::channel(QUEUED_CHECKS);
        let desk = self.clone();
        let call = call.clone();
        tokio::spawn(
            async move {
                if let Err(error) = desk.verify_each(&call, &digests, &sender).await {
                    let _ = sender.send(Err(Status::from(error))).await;
                }
            }
            .in_current_span(),
        );
        Ok(ReceiverStream::new(receiver))
    }

    /// Checks `digests` one by one, sending each result; stops when the client is gone.
    async fn verify_each(
        &self,
        call: &CallContext,
        digests: &[String],
        sender: &mpsc::Sender<Result<pb::VerifyEvidenceResponse, Status>>,
    ) -> Result<(), IntakeError> {
        let files_total = i64::try_from(digests.len()).unwrap_or(i64::MAX);
        let mut mismatches_found = 0i64;
        for (files_checked, sha256) in (1i64..).zip(digests) {
            let check = self.verify_one(call, sha256).await?;
            if !check.intact {
                mismatches_found += 1;
            }
            let message = pb::VerifyEvidenceResponse {
                files_checked,
                check: Some(check),
                files_total,
                mismatches_found,
            };
            if sender.send(Ok(message)).await.is_err() {
                tracing::info!(
                    files_checked,
                    files_total,
                    "the client left: verification stopped"
                );
                return Ok(());
            }
        }
        tracing::info!(files_total, mismatches_found, "verification done");
        Ok(())
    }

    /// Re-reads the blob of `sha256` and records the outcome in the custody of every record
    /// that holds it.
    async fn verify_one(
        &self,
        call: &CallContext,
        sha256: &str,
    ) -> Result<pb::BlobCheck, IntakeError> {
        let problem = self.check(sha256).await;
        let holders: Vec<Uuid> = evidence::Entity::find()
            .select_only()
            .column(evidence::Column::Id)
            .filter(evidence::Column::Sha256.eq(sha256))
            .order_by_asc(evidence::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let (note, found) = match &problem {
            None => ("intact".to_owned(), sha256.to_owned()),
            Some(problem) => (format!("MISMATCH: {problem}"), problem.clone()),
        };
        let txn = begin_write(&self.db).await?;
        for holder in &holders {
            record_custody(
                &txn,
                *holder,
                CustodyEventKind::Verified,
                call.subject(),
                &found,
                &note,
            )
            .await?;
        }
        let targets = holders.iter().map(Uuid::to_string).collect();
        journal::record(
            &txn,
            &AuditRecord::succeeded(call, "verify evidence", targets),
            None,
        )
        .await?;
        txn.commit().await?;
        if let Some(problem) = &problem {
            tracing::error!(%sha256, %problem, "EVIDENCE FILE FAILED VERIFICATION");
        }
        let trusted_time = match &self.trusted_time {
            Some(trusted_time) => trusted_time.proof(sha256).await?,
            None => None,
        };
        Ok(pb::BlobCheck {
            sha256: sha256.to_owned(),
            evidence_ids: holders.iter().map(Uuid::to_string).collect(),
            intact: problem.is_none(),
            problem: problem.unwrap_or_default(),
            trusted_time,
        })
    }

    /// What is wrong with the blob of `sha256`: `None` when intact, `missing`, `unreadable`, or
    /// the hash its bytes have now.
    async fn check(&self, sha256: &str) -> Option<String> {
        match self.blobs.check(sha256).await {
            Ok(Condition::Intact) => None,
            Ok(Condition::Damaged(Damage::Hash(found))) => Some(found.as_str().to_owned()),
            Ok(Condition::Damaged(damage)) => Some(damage.to_string()),
            Err(_) => Some("unreadable".to_owned()),
        }
    }

    /// Records on every record of the blob of `sha256` that its stored copy was found damaged
    /// (`found`) and replaced by the same bytes, uploaded again by `call`'s caller. Committed on
    /// its own, before the new upload's record: the repair happened whatever becomes of that.
    pub(super) async fn record_repair(
        &self,
        call: &CallContext,
        sha256: &str,
        found: &Damage,
    ) -> Result<(), IntakeError> {
        let txn = begin_write(&self.db).await?;
        let holders: Vec<Uuid> = evidence::Entity::find()
            .select_only()
            .column(evidence::Column::Id)
            .filter(evidence::Column::Sha256.eq(sha256))
            .order_by_asc(evidence::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        let note = format!(
            "the stored file was damaged ({found}); replaced by the same bytes, uploaded again \
             and hashed to {sha256} as they arrived"
        );
        for holder in &holders {
            record_custody(
                &txn,
                *holder,
                CustodyEventKind::Repaired,
                call.subject(),
                sha256,
                &note,
            )
            .await?;
        }
        let mut targets: Vec<String> = holders.iter().map(Uuid::to_string).collect();
        targets.push(format!("sha256:{sha256}"));
        journal::record(
            &txn,
            &AuditRecord::succeeded(call, "repair evidence file", targets),
            None,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
