//! Publishing again the snapshots of cases a migration marked, so that reporting counts old
//! data by the rules of today (a case closed as not a crime before the events said why, say).

use docket_platform::audit::AuditRecord;
use docket_platform::journal;
use sea_orm::entity::prelude::*;
use sea_orm::{QueryOrder, QuerySelect};

use super::CaseStore;
use crate::entity::case_republish;
use crate::error::CaseError;

/// Cases published per transaction.
const BATCH: u64 = 200;

impl CaseStore {
    /// Publishes the snapshot of every marked case, a batch per transaction that also unmarks
    /// it and audits it, so that a crash neither loses nor repeats a batch. Returns how many.
    pub async fn republish_marked(&self) -> Result<usize, CaseError> {
        let mut published = 0;
        loop {
            let (_changing, txn) = self.begin_change().await?;
            let batch: Vec<Uuid> = case_republish::Entity::find()
                .order_by_asc(case_republish::Column::CaseId)
                .limit(BATCH)
                .all(&txn)
                .await?
                .into_iter()
                .map(|row| row.case_id)
                .collect();
            if batch.is_empty() {
                break;
            }
            let decisions = self.register.decisions();
            let mut events = Vec::with_capacity(batch.len());
            for case_id in &batch {
                events.push(self.snapshot(&txn, *case_id, &decisions).await?);
            }
            let audit = AuditRecord {
                subject: "docket".to_owned(),
                role: "system".to_owned(),
                method: "start-up".to_owned(),
                target_ids: batch.iter().map(Uuid::to_string).collect(),
                outcome: "OK".to_owned(),
                request_id: String::new(),
                action: "republish cases to reporting after an upgrade".to_owned(),
                count: batch.len() as u64,
            };
            journal::record_many(&txn, &[audit], &events).await?;
            case_republish::Entity::delete_many()
                .filter(case_republish::Column::CaseId.is_in(batch.clone()))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            self.committed();
            published += batch.len();
        }
        Ok(published)
    }
}
