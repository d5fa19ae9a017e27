//! Moving an allegation through triage.

use chrono::{SubsecRound, Utc};
use docket_domain::allegation::{
    AllegationStatus, RejectionReason, ReviewerName, SourceMessage, TriageAction,
};
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::journal;
use docket_platform::outbox;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;

use super::AllegationStore;
use crate::delivery;
use crate::entity::allegation;
use crate::error::IntakeError;

/// A triage step with what it records.
#[derive(Debug, Clone)]
pub enum TriageCommand {
    StartReview(ReviewerName),
    Accept {
        message: Option<SourceMessage>,
    },
    Reject {
        reason: RejectionReason,
        message: Option<SourceMessage>,
    },
    MarkDuplicate {
        of: Uuid,
        message: Option<SourceMessage>,
    },
}

impl TriageCommand {
    fn action(&self) -> TriageAction {
        match self {
            TriageCommand::StartReview(_) => TriageAction::StartReview,
            TriageCommand::Accept { .. } => TriageAction::Accept,
            TriageCommand::Reject { .. } => TriageAction::Reject,
            TriageCommand::MarkDuplicate { .. } => TriageAction::MarkDuplicate,
        }
    }

    fn message(&self) -> Option<&SourceMessage> {
        match self {
            TriageCommand::StartReview(_) => None,
            TriageCommand::Accept { message }
            | TriageCommand::Reject { message, .. }
            | TriageCommand::MarkDuplicate { message, .. } => message.as_ref(),
        }
    }

    fn audit_action(&self) -> &'static str {
        match self {
            TriageCommand::StartReview(_) => "start review",
            TriageCommand::Accept { .. } => "accept allegation",
            TriageCommand::Reject { .. } => "reject allegation",
            TriageCommand::MarkDuplicate { .. } => "mark duplicate",
        }
    }
}

impl AllegationStore {
    /// Applies `command` to allegation `id` if its status allows it.
    pub async fn triage(
        &self,
        id: Uuid,
        command: TriageCommand,
        call: &CallContext,
    ) -> Result<pb::Allegation, IntakeError> {
        let txn = begin_write(&self.db).await?;
        let current = allegation::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(IntakeError::AllegationNotFound(id))?;
        let action = command.action();
        let next = action.apply(AllegationStatus::from_code(&current.status)?)?;

        let mut update = allegation::Entity::update_many()
            .col_expr(allegation::Column::Status, Expr::value(next.code()))
            .col_expr(
                allegation::Column::StatusChangedAt,
                Expr::value(Utc::now().trunc_subsecs(6)),
            );
        match &command {
            TriageCommand::StartReview(reviewer) => {
                update = update.col_expr(
                    allegation::Column::ReviewedBy,
                    Expr::value(reviewer.as_str()),
                );
            }
            TriageCommand::Reject { reason, .. } => {
                update = update.col_expr(
                    allegation::Column::RejectionReason,
                    Expr::value(reason.as_str()),
                );
            }
            TriageCommand::MarkDuplicate { of, .. } => {
                let original = allegation::Entity::find_by_id(*of)
                    .one(&txn)
                    .await?
                    .ok_or(IntakeError::AllegationNotFound(*of))?;
                if let Some(original_of_original) = original.duplicate_of_id {
                    return Err(IntakeError::DuplicateOfDuplicate {
                        target: *of,
                        original: original_of_original,
                    });
                }
                update = update.col_expr(allegation::Column::DuplicateOfId, Expr::value(*of));
            }
            TriageCommand::Accept { .. } => {}
        }
        if let Some(message) = command.message() {
            update = update.col_expr(
                allegation::Column::MessageForSource,
                Expr::value(message.as_str()),
            );
        }
        // The status condition makes the move atomic on PostgreSQL too, where the row read above
        // is not locked: of two concurrent decisions, only one finds the status it expects.
        let allowed: Vec<&str> = action.allowed_from().iter().map(|s| s.code()).collect();
        let result = update
            .filter(allegation::Column::Id.eq(id))
            .filter(allegation::Column::Status.is_in(allowed))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            drop(txn);
            // Someone else moved it in between: report against its status now.
            let now = allegation::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .ok_or(IntakeError::AllegationNotFound(id))?;
            action.apply(AllegationStatus::from_code(&now.status)?)?;
            return Err(
                anyhow::anyhow!("allegation {id} changed while it was being triaged").into(),
            );
        }
        let mut targets = vec![id.to_string()];
        if let TriageCommand::MarkDuplicate { of, .. } = &command {
            targets.push(of.to_string());
        }
        let mut message = self.load_one(&txn, id).await?;
        let audit = AuditRecord::succeeded(call, command.audit_action(), targets);
        journal::record(&txn, &audit, Some(&status_changed(&message))).await?;
        let delivers = matches!(
            command,
            TriageCommand::Accept { .. } | TriageCommand::MarkDuplicate { .. }
        );
        if delivers {
            outbox::enqueue(&txn, delivery::TOPIC, delivery::receive_request(&message)).await?;
        }
        txn.commit().await?;
        self.events.committed();
        if delivers {
            self.dispatcher.committed();
        }
        self.disclose(call, std::slice::from_mut(&mut message), false)
            .await?;
        Ok(message)
    }
}

/// What other services learn of a triage step.
fn status_changed(message: &pb::Allegation) -> ev::EventPayload {
    ev::EventPayload {
        kind: Some(ev::event_payload::Kind::AllegationStatusChanged(
            ev::AllegationStatusChanged {
                allegation_id: message.id.clone(),
                status: message.status().as_str_name().to_owned(),
                duplicate_of_id: message.duplicate_of_id.clone(),
                changed_time: message.status_changed_at,
            },
        )),
    }
}
