//! Re-reading stored files and comparing them with the hash they are stored under, and recording
//! the repair of one that an upload of the same bytes healed.

use docket_domain::evidence::CustodyEventKind;
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::journal;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, QuerySelect};

use super::EvidenceDesk;
use super::blobs::{Condition, Damage};
use super::records::{self, record_custody};
use crate::entity::evidence;
use crate::error::IntakeError;

impl EvidenceDesk {
    /// Re-reads the file of evidence `id`, or every file when `None`; records a custody event
    /// for every record checked, and reports the files that no longer match.
    pub async fn verify(
        &self,
        call: &CallContext,
        id: Option<Uuid>,
    ) -> Result<pb::VerifyEvidenceResponse, IntakeError> {
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
        let mut mismatches = Vec::new();
        for sha256 in &digests {
            let problem = self.check(sha256).await;
            let holders: Vec<Uuid> = evidence::Entity::find()
                .select_only()
                .column(evidence::Column::Id)
                .filter(evidence::Column::Sha256.eq(sha256.as_str()))
                .into_tuple()
                .all(&self.db)
                .await?;
            let (note, found) = match &problem {
                None => ("intact".to_owned(), sha256.clone()),
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
            if let Some(problem) = problem {
                tracing::error!(%sha256, %problem, "EVIDENCE FILE FAILED VERIFICATION");
                mismatches.push(pb::BlobCheck {
                    sha256: sha256.clone(),
                    evidence_ids: holders.iter().map(Uuid::to_string).collect(),
                    intact: false,
                    problem,
                });
            }
        }
        Ok(pb::VerifyEvidenceResponse {
            files_checked: i64::try_from(digests.len()).unwrap_or(i64::MAX),
            mismatches,
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
