//! Delivering outbox messages, oldest first, with exponential backoff per message, until they
//! are delivered or dead-lettered.
//!
//! A delivery the receiver refuses (a [`Failure::Refused`]: the request can never succeed as it
//! is) is tried a few more times, since what it waits for may still be on its way (an earlier
//! message in flight), and is then set aside as a dead letter; so is any message after
//! [`DeadLetterPolicy::max_attempts`]. Dead letters are never tried again by themselves: they are
//! counted in `docket_outbox_dead_letters`, logged, and listed for a supervisor, who retries or
//! drops each (see [`super::dead_letters`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{SubsecRound, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{DatabaseConnection, QueryOrder, QuerySelect};
use tokio::sync::Notify;
use tracing::Instrument;

use super::entity;
use crate::shutdown::ShutdownSignal;

/// Messages handled per pass.
const BATCH: u64 = 32;
/// How long an idle dispatcher waits before looking again when nothing woke it.
const IDLE: Duration = Duration::from_secs(1);
/// The first retry delay, doubled per failed attempt up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// It may succeed later (the receiver is down, busy, or timed out): try again.
    Retry(String),
    /// The receiver refused the request as it is (FAILED_PRECONDITION, INVALID_ARGUMENT,
    /// NOT_FOUND…): a few more tries, then a dead letter.
    Refused(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Retry(why) => write!(f, "{why}"),
            Failure::Refused(why) => write!(f, "refused: {why}"),
        }
    }
}

/// Delivers one message.
pub trait Delivery: Send + Sync + 'static {
    fn deliver(
        &self,
        topic: &str,
        payload: &[u8],
    ) -> impl Future<Output = Result<(), Failure>> + Send;
}

/// When a message stops being tried and becomes a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadLetterPolicy {
    /// Attempts of any kind; at the 30 s cap of the backoff, 2 880 are about a day.
    pub max_attempts: u32,
    /// Attempts once the receiver refuses the request.
    pub max_refused_attempts: u32,
}

impl Default for DeadLetterPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 2_880,
            max_refused_attempts: 8,
        }
    }
}

impl DeadLetterPolicy {
    /// Whether a message that has failed `attempts` times, the last time with `failure`, is dead.
    fn gives_up(&self, attempts: i32, failure: &Failure) -> bool {
        let attempts = u32::try_from(attempts).unwrap_or(0);
        attempts >= self.max_attempts.max(1)
            || matches!(failure, Failure::Refused(_))
                && attempts >= self.max_refused_attempts.max(1)
    }
}

/// Runs deliveries for one outbox.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    db: DatabaseConnection,
    wake: Arc<Notify>,
    policy: DeadLetterPolicy,
}

impl Dispatcher {
    pub fn new(db: DatabaseConnection, policy: DeadLetterPolicy) -> Self {
        Self {
            db,
            wake: Arc::new(Notify::new()),
            policy,
        }
    }

    /// Tells the dispatcher that messages were committed; call after commit.
    pub fn committed(&self) {
        self.wake.notify_one();
    }

    /// Delivers until `shutdown`.
    pub async fn run<D: Delivery>(self, delivery: D, shutdown: ShutdownSignal) {
        let stop = shutdown.wait();
        tokio::pin!(stop);
        loop {
            let idle = match self.pass(&delivery).await {
                Ok(handled) if handled > 0 => Duration::ZERO,
                Ok(_) => self.until_next_due().await.unwrap_or(IDLE).min(IDLE),
                Err(error) => {
                    tracing::warn!(%error, "the outbox cannot be read; trying again");
                    IDLE
                }
            };
            if idle.is_zero() {
                continue;
            }
            tokio::select! {
                () = &mut stop => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(idle) => {}
            }
        }
    }

    /// Tries every due message once; returns how many were tried.
    async fn pass<D: Delivery>(&self, delivery: &D) -> Result<usize, DbErr> {
        let now = Utc::now();
        let due = entity::Entity::find()
            .filter(entity::Column::DeliveredAt.is_null())
            .filter(entity::Column::DeadLetteredAt.is_null())
            .filter(entity::Column::NextAttemptAt.lte(now))
            .order_by_asc(entity::Column::Id)
            .limit(BATCH)
            .all(&self.db)
            .await?;
        let tried = due.len();
        if let Ok(backlog) = self.backlog().await {
            metrics::gauge!("docket_outbox_backlog").set(backlog as f64);
        }
        if let Ok(oldest) = self.oldest_undelivered().await {
            let age = oldest.map_or(0.0, |created| {
                (Utc::now() - created).num_milliseconds().max(0) as f64 / 1000.0
            });
            metrics::gauge!("docket_outbox_oldest_undelivered_age_seconds").set(age);
        }
        if let Ok(dead) = super::dead_letters::count(&self.db).await {
            metrics::gauge!("docket_outbox_dead_letters").set(dead as f64);
        }
        for message in due {
            let span = tracing::info_span!(
                "outbox_delivery",
                otel.name = %format!("deliver {}", message.topic),
                otel.kind = "producer",
                otel.status_code = tracing::field::Empty,
                otel.status_message = tracing::field::Empty,
                id = %message.id,
                topic = %message.topic,
                trace_id = tracing::field::Empty,
            );
            if let Some(traceparent) = &message.trace_parent {
                crate::trace_context::continue_from(&span, traceparent);
            }
            crate::trace_context::record_trace_id(&span);
            let outcome = delivery
                .deliver(&message.topic, &message.payload)
                .instrument(span.clone())
                .await;
            if let Err(failure) = &outcome {
                span.record("otel.status_code", "ERROR");
                span.record("otel.status_message", tracing::field::display(failure));
            }
            drop(span);
            let update = entity::Entity::update_many().filter(entity::Column::Id.eq(message.id));
            match outcome {
                Ok(()) => {
                    update
                        .col_expr(
                            entity::Column::DeliveredAt,
                            Expr::value(Utc::now().trunc_subsecs(6)),
                        )
                        .col_expr(entity::Column::Attempts, Expr::value(message.attempts + 1))
                        .exec(&self.db)
                        .await?;
                    tracing::info!(id = %message.id, topic = %message.topic, "outbox message delivered");
                }
                Err(failure) => {
                    let attempts = message.attempts.saturating_add(1);
                    let next = Utc::now() + backoff(attempts);
                    let dead = self.policy.gives_up(attempts, &failure);
                    let error = failure.to_string();
                    let mut update = update
                        .col_expr(entity::Column::Attempts, Expr::value(attempts))
                        .col_expr(
                            entity::Column::NextAttemptAt,
                            Expr::value(next.trunc_subsecs(6)),
                        )
                        .col_expr(entity::Column::LastError, Expr::value(error.clone()));
                    if dead {
                        update = update.col_expr(
                            entity::Column::DeadLetteredAt,
                            Expr::value(Utc::now().trunc_subsecs(6)),
                        );
                    }
                    update.exec(&self.db).await?;
                    metrics::counter!("docket_outbox_delivery_failures_total", "topic" => message.topic.clone())
                        .increment(1);
                    if dead {
                        metrics::counter!("docket_outbox_dead_lettered_total", "topic" => message.topic.clone())
                            .increment(1);
                        metrics::gauge!("docket_outbox_dead_letters").increment(1.0);
                        tracing::error!(id = %message.id, topic = %message.topic, attempts, %error, "delivery given up: a dead letter now, for a supervisor to retry or drop");
                    } else {
                        tracing::warn!(id = %message.id, topic = %message.topic, attempts, %error, "delivery failed; will retry");
                    }
                }
            }
        }
        Ok(tried)
    }

    /// How long until the next undelivered message is due.
    async fn until_next_due(&self) -> Option<Duration> {
        let next: Option<chrono::DateTime<Utc>> = entity::Entity::find()
            .select_only()
            .column(entity::Column::NextAttemptAt)
            .filter(entity::Column::DeliveredAt.is_null())
            .filter(entity::Column::DeadLetteredAt.is_null())
            .order_by_asc(entity::Column::NextAttemptAt)
            .into_tuple()
            .one(&self.db)
            .await
            .ok()
            .flatten();
        next.map(|due| (due - Utc::now()).to_std().unwrap_or(Duration::ZERO))
    }

    /// Messages not yet delivered and still tried (dead letters are not).
    /// When the oldest message neither delivered nor dead-lettered was written, if any.
    async fn oldest_undelivered(&self) -> Result<Option<chrono::DateTime<Utc>>, DbErr> {
        let oldest = entity::Entity::find()
            .filter(entity::Column::DeliveredAt.is_null())
            .filter(entity::Column::DeadLetteredAt.is_null())
            .order_by_asc(entity::Column::CreatedAt)
            .one(&self.db)
            .await?;
        Ok(oldest.map(|message| message.created_at))
    }

    pub async fn backlog(&self) -> Result<u64, DbErr> {
        entity::Entity::find()
            .filter(entity::Column::DeliveredAt.is_null())
            .filter(entity::Column::DeadLetteredAt.is_null())
            .count(&self.db)
            .await
    }
}

fn backoff(attempts: i32) -> chrono::Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    let delay = FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_BACKOFF);
    chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::seconds(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_give_up_sooner_than_other_failures() {
        let policy = DeadLetterPolicy {
            max_attempts: 10,
            max_refused_attempts: 3,
        };
        let (retry, refused) = (Failure::Retry("down".into()), Failure::Refused("no".into()));
        assert!(!policy.gives_up(2, &refused));
        assert!(policy.gives_up(3, &refused));
        assert!(!policy.gives_up(9, &retry));
        assert!(policy.gives_up(10, &retry));
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        assert_eq!(backoff(1), chrono::Duration::milliseconds(200));
        assert_eq!(backoff(2), chrono::Duration::milliseconds(400));
        assert_eq!(backoff(5), chrono::Duration::milliseconds(3_200));
        assert_eq!(backoff(50), chrono::Duration::seconds(30));
    }
}
