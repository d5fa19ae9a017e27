//! Moving an allegation through triage.

use docket_domain::allegation::{
    AllegationStatus, RejectionReason, ReviewerName, SourceMessage, TriageAction,
};
use docket_domain::history::ChangeReason;
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::history::Change;
use docket_platform::journal;
use docket_platform::outbox;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::QuerySelect;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;

use super::history;
use super::read::load_many;
use super::{AllegationStore, now};
use crate::delivery;
use crate::entity::allegation;
use crate::error::IntakeError;

/// A triage step with what it records.
#[derive(Debug, Clone)]
pub enum TriageCommand {
    StartReview(ReviewerName),
    Accept {
        message: Option<SourceMessage>,
        /// An existing case the allegation joins, checked with case management beforehand.
        join_case: Option<Uuid>,
    },
    Reject {
        reason: RejectionReason,
        message: Option<SourceMessage>,
    },
    MarkDuplicate {
        of: Uuid,
        message: Option<SourceMessage>,
    },
    /// Undoes a rejection: under review again, by `reviewer`.
    Reopen {
        reviewer: ReviewerName,
        reason: ChangeReason,
        message: Option<SourceMessage>,
        etag: Option<String>,
    },
}

impl TriageCommand {
    fn action(&self) -> TriageAction {
        match self {
            TriageCommand::StartReview(_) => TriageAction::StartReview,
            TriageCommand::Accept { .. } => TriageAction::Accept,
            TriageCommand::Reject { .. } => TriageAction::Reject,
            TriageCommand::MarkDuplicate { .. } => TriageAction::MarkDuplicate,
            TriageCommand::Reopen { .. } => TriageAction::Reopen,
        }
    }

    fn message(&self) -> Option<&SourceMessage> {
        match self {
            TriageCommand::StartReview(_) => None,
            TriageCommand::Accept { message, .. }
            | TriageCommand::Reject { message, .. }
            | TriageCommand::MarkDuplicate { message, .. }
            | TriageCommand::Reopen { message, .. } => message.as_ref(),
        }
    }

    /// Why, for the history: a rejection's reason, a reopening's.
    fn reason(&self) -> Option<&str> {
        match self {
            TriageCommand::Reject { reason, .. } => Some(reason.as_str()),
            TriageCommand::Reopen { reason, .. } => Some(reason.as_str()),
            TriageCommand::StartReview(_)
            | TriageCommand::Accept { .. }
            | TriageCommand::MarkDuplicate { .. } => None,
        }
    }

    fn audit_action(&self) -> &'static str {
        match self {
            TriageCommand::StartReview(_) => "start review",
            TriageCommand::Accept { .. } => "accept allegation",
            TriageCommand::Reject { .. } => "reject allegation",
            TriageCommand::MarkDuplicate { .. } => "mark duplicate",
            TriageCommand::Reopen { .. } => "reopen allegation",
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
        // Locked until the end of the transaction (on PostgreSQL; SQLite's write transaction
        // already excludes every other writer): a concurrent decision waits for this one and
        // then reads its outcome, so a caller that sent no etag is never refused as if it had
        // raced — found by the lifecycle property (tests/e2e/lifecycles.rs), where a rejection
        // racing a start of review came back ABORTED.
        let current = allegation::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(IntakeError::AllegationNotFound(id))?;
        let action = command.action();
        let next = action.apply(AllegationStatus::from_code(&current.status)?)?;
        if let TriageCommand::Reopen {
            etag: Some(etag), ..
        } = &command
            && *etag != docket_platform::etag::of(id, current.version)
        {
            return Err(IntakeError::StaleEtag(id));
        }
        let before = load_many(&txn, vec![current.clone()]).await?;

        let mut update = allegation::Entity::update_many()
            .col_expr(allegation::Column::Status, Expr::value(next.code()))
            .col_expr(allegation::Column::StatusChangedAt, Expr::value(now()))
            .col_expr(
                allegation::Column::Version,
                Expr::value(current.version + 1),
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
                // The duplicate is delivered to the original's case, which exists only once the
                // original was accepted (a terminal status): refuse now what case management
                // would refuse on every delivery.
                let status = AllegationStatus::from_code(&original.status)?;
                if status != AllegationStatus::Accepted {
                    return Err(IntakeError::DuplicateOfUnaccepted {
                        target: *of,
                        status: status.code(),
                    });
                }
                update = update.col_expr(allegation::Column::DuplicateOfId, Expr::value(*of));
            }
            TriageCommand::Accept { join_case, .. } => {
                update = update.col_expr(allegation::Column::JoinedCaseId, Expr::value(*join_case));
            }
            TriageCommand::Reopen { reviewer, .. } => {
                // The rejection's reason and message go to the history; the allegation is open.
                update = update
                    .col_expr(
                        allegation::Column::ReviewedBy,
                        Expr::value(reviewer.as_str()),
                    )
                    .col_expr(
                        allegation::Column::RejectionReason,
                        Expr::value(Option::<String>::None),
                    );
            }
        }
        match command.message() {
            Some(message) => {
                update = update.col_expr(
                    allegation::Column::MessageForSource,
                    Expr::value(message.as_str()),
                );
            }
            // The rejection's message would tell the source the allegation is still rejected.
            None if action == TriageAction::Reopen => {
                update = update.col_expr(
                    allegation::Column::MessageForSource,
                    Expr::value(Option::<String>::None),
                );
            }
            None => {}
        }
        // The status and version conditions make the move atomic on PostgreSQL too, where the
        // row read above is not locked: of two concurrent changes, only one finds the allegation
        // as it read it (and so the version it produced numbers its history uniquely).
        let allowed: Vec<&str> = action.allowed_from().iter().map(|s| s.code()).collect();
        let result = update
            .filter(allegation::Column::Id.eq(id))
            .filter(allegation::Column::Status.is_in(allowed))
            .filter(allegation::Column::Version.eq(current.version))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            drop(txn);
            // Someone else changed it in between: report against its status now, or, if that
            // still allows the step, as a change made meanwhile.
            let now = allegation::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .ok_or(IntakeError::AllegationNotFound(id))?;
            action.apply(AllegationStatus::from_code(&now.status)?)?;
            return Err(IntakeError::StaleEtag(id));
        }
        let mut targets = vec![id.to_string()];
        if let TriageCommand::MarkDuplicate { of, .. } = &command {
            targets.push(of.to_string());
        }
        let mut message = self.load_one(&txn, id).await?;
        if let Some(before) = before.first() {
            let change = Change {
                action: command.audit_action(),
                by: call.subject(),
                reason: command.reason(),
            };
            history::record(&txn, id, current.version + 1, change, before, &message).await?;
        }
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
