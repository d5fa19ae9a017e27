//! Deliveries the outbox gave up on, as a supervisor sees them: listed, retried or dropped, each
//! decision audited in its own transaction.

use docket_platform::audit::{self, AuditRecord};
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::outbox::dead_letters::{self, DeadLetter};
use docket_platform::paging::encode_token;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::timestamp;
use uuid::Uuid;

use super::AllegationStore;
use crate::delivery;
use crate::error::IntakeError;
use crate::request::{DEAD_LETTER_FILTERS, DeadLetterPage};

/// What a supervisor decides about a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterDecision {
    Retry,
    Drop,
}

impl AllegationStore {
    /// One page of dead letters and the token of the next.
    pub async fn dead_letters(
        &self,
        page: &DeadLetterPage,
    ) -> Result<(Vec<pb::DeadLetter>, String), IntakeError> {
        let mut rows = dead_letters::list(&self.db, page.after, page.page_size + 1).await?;
        let more = rows.len() as u64 > page.page_size;
        rows.truncate(usize::try_from(page.page_size).unwrap_or(usize::MAX));
        let next = match rows.last() {
            Some(last) if more => encode_token(last.id.as_bytes(), DEAD_LETTER_FILTERS),
            _ => String::new(),
        };
        Ok((rows.into_iter().map(message).collect(), next))
    }

    /// Retries or drops the dead letter `id`, and audits it in the same transaction.
    pub async fn decide_dead_letter(
        &self,
        id: Uuid,
        decision: DeadLetterDecision,
        call: &CallContext,
    ) -> Result<pb::DeadLetter, IntakeError> {
        let txn = begin_write(&self.db).await?;
        let letter = dead_letters::find(&txn, id)
            .await?
            .ok_or(IntakeError::DeadLetterNotFound(id))?;
        let done = match decision {
            DeadLetterDecision::Retry => dead_letters::retry(&txn, id).await?,
            DeadLetterDecision::Drop => dead_letters::discard(&txn, id).await?,
        };
        if !done {
            return Err(IntakeError::DeadLetterNotFound(id));
        }
        let mut targets = vec![id.to_string()];
        let allegation = delivery::delivered_allegation(&letter.topic, &letter.payload);
        if let Some((allegation_id, _)) = &allegation {
            targets.push(allegation_id.clone());
        }
        if let Some((evidence_id, case_id)) =
            delivery::delivered_evidence(&letter.topic, &letter.payload)
        {
            targets.extend([evidence_id, case_id]);
        }
        let action = match decision {
            DeadLetterDecision::Retry => format!(
                "retry dead letter after {} attempts; last error: {}",
                letter.attempts, letter.last_error
            ),
            DeadLetterDecision::Drop => format!(
                "drop dead letter after {} attempts; last error: {}",
                letter.attempts, letter.last_error
            ),
        };
        audit::append(&txn, &AuditRecord::succeeded(call, &action, targets)).await?;
        txn.commit().await?;
        if decision == DeadLetterDecision::Retry {
            self.dispatcher.committed();
        }
        Ok(message(letter))
    }
}

fn message(letter: DeadLetter) -> pb::DeadLetter {
    let (allegation_id, allegation_reference) =
        delivery::delivered_allegation(&letter.topic, &letter.payload).unwrap_or_default();
    let (evidence_id, case_id) =
        delivery::delivered_evidence(&letter.topic, &letter.payload).unwrap_or_default();
    pb::DeadLetter {
        id: letter.id.to_string(),
        topic: letter.topic,
        allegation_id,
        allegation_reference,
        attempts: letter.attempts,
        last_error: letter.last_error,
        created_at: Some(timestamp(letter.created_at)),
        dead_lettered_at: Some(timestamp(letter.dead_lettered_at)),
        evidence_id,
        case_id,
    }
}
