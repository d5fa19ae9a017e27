//! Appending events and reading them back in order.

use std::sync::Arc;

use chrono::{SubsecRound, Utc};
use docket_proto::docket::events::v1 as pb;
use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryOrder, QuerySelect, Statement};
use tokio::sync::Notify;

use super::entity;
use crate::db::{insert_models, placeholder};

/// Appends `payload` in the transaction `conn`; returns its sequence number.
pub async fn append<C: ConnectionTrait>(
    conn: &C,
    payload: &pb::EventPayload,
) -> Result<i64, DbErr> {
    append_many(conn, std::slice::from_ref(payload)).await
}

/// Appends `payloads` in order, in the transaction `conn`, with one statement per table however
/// many they are; returns the sequence number of the last (0 when there are none).
pub async fn append_many<C: ConnectionTrait>(
    conn: &C,
    payloads: &[pb::EventPayload],
) -> Result<i64, DbErr> {
    if payloads.is_empty() {
        return Ok(0);
    }
    let backend = conn.get_database_backend();
    let count = payloads.len() as i64;
    let sql = format!(
        "UPDATE event_head SET last_sequence = last_sequence + {} WHERE id = 1 \
         RETURNING last_sequence",
        placeholder(backend, 1)
    );
    // The head row stays locked until commit: see the module documentation.
    let head = conn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [count.into()]))
        .await?
        .ok_or_else(|| DbErr::Custom("the event head row is missing".to_owned()))?;
    let last: i64 = head.try_get_by_index(0)?;
    let occurred_at = Utc::now().trunc_subsecs(6);
    let rows = (last - count + 1..)
        .zip(payloads)
        .map(|(sequence, payload)| entity::Model {
            sequence,
            occurred_at,
            payload: payload.encode_to_vec(),
        })
        .collect::<Vec<_>>();
    insert_models(conn, &rows).await?;
    Ok(last)
}

/// A service's event log: read in order, and a signal that new events were committed here.
#[derive(Debug, Clone)]
pub struct EventLog {
    db: DatabaseConnection,
    committed: Arc<Notify>,
}

impl EventLog {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            committed: Arc::new(Notify::new()),
        }
    }

    /// Wakes the readers that follow the stream; call after committing events.
    pub fn committed(&self) {
        self.committed.notify_waiters();
    }

    /// Resolves when events may have been committed in this process after this call.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.committed.notified()
    }

    /// The last sequence committed here; 0 before the first event.
    pub async fn head(&self) -> Result<i64, DbErr> {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                "SELECT last_sequence FROM event_head WHERE id = 1",
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("the event head row is missing".to_owned()))?;
        row.try_get_by_index(0)
    }

    /// Up to `limit` events after `after`, in order.
    pub async fn read(&self, after: i64, limit: u64) -> Result<Vec<pb::Event>, DbErr> {
        let rows = entity::Entity::find()
            .filter(entity::Column::Sequence.gt(after))
            .order_by_asc(entity::Column::Sequence)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                let payload = pb::EventPayload::decode(row.payload.as_slice()).map_err(|e| {
                    DbErr::Custom(format!("event {} does not decode: {e}", row.sequence))
                })?;
                Ok(pb::Event {
                    sequence: row.sequence,
                    occurred_time: Some(docket_proto::timestamp(row.occurred_at)),
                    payload: Some(payload),
                })
            })
            .collect()
    }
}
