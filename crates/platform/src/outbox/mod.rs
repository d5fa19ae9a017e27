//! The transactional outbox: a message to another service is written in the transaction of the
//! change that calls for it, and a dispatcher delivers it afterwards, retrying with backoff until
//! the receiver acknowledges. The receiver being down makes delivery late, never lost; receivers
//! are idempotent, so a message delivered twice (a crash between delivery and its record, or two
//! replicas dispatching at once) has the effect of one.
//!
//! A message that can never be delivered does not stay in the way forever: after a refusal
//! repeated a few times, or after many failures of any kind, it becomes a dead letter, which a
//! supervisor lists, retries or drops ([`dead_letters`]).

pub mod dead_letters;
mod dispatch;
mod entity;
mod migration;

pub use dispatch::{DeadLetterPolicy, Delivery, Dispatcher, Failure};
pub use migration::{AddOutboxDeadLetters, AddOutboxTraceParent, CreateOutbox};

use chrono::{SubsecRound, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait};

/// Writes a message for `topic` in the transaction `conn`.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    topic: &str,
    payload: Vec<u8>,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    let now = Utc::now().trunc_subsecs(6);
    entity::Entity::insert(entity::ActiveModel {
        id: Set(id),
        topic: Set(topic.to_owned()),
        payload: Set(payload),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        delivered_at: Set(None),
        last_error: Set(None),
        trace_parent: Set(crate::trace_context::current_traceparent()),
        dead_lettered_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(id)
}
