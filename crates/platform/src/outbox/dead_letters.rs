//! Messages the dispatcher gave up on: counted, listed, and retried or discarded by a supervisor
//! (the service that owns the outbox serves the calls and audits them).

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect};

use super::entity;

/// One dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: Uuid,
    pub topic: String,
    pub payload: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_error: String,
    pub dead_lettered_at: DateTime<Utc>,
}

impl DeadLetter {
    fn from_row(row: entity::Model) -> Option<Self> {
        Some(Self {
            dead_lettered_at: row.dead_lettered_at?,
            id: row.id,
            topic: row.topic,
            payload: row.payload,
            created_at: row.created_at,
            attempts: row.attempts,
            last_error: row.last_error.unwrap_or_default(),
        })
    }
}

fn dead() -> Select<entity::Entity> {
    entity::Entity::find()
        .filter(entity::Column::DeliveredAt.is_null())
        .filter(entity::Column::DeadLetteredAt.is_not_null())
}

/// How many dead letters there are.
pub async fn count<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    dead().count(conn).await
}

/// Up to `limit` dead letters after `after` (by id, oldest first).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<DeadLetter>, DbErr> {
    let mut select = dead();
    if let Some(after) = after {
        select = select.filter(entity::Column::Id.gt(after));
    }
    let rows = select
        .order_by_asc(entity::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    Ok(rows.into_iter().filter_map(DeadLetter::from_row).collect())
}

/// The dead letter `id`, if it is one.
pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<DeadLetter>, DbErr> {
    let row = dead().filter(entity::Column::Id.eq(id)).one(conn).await?;
    Ok(row.and_then(DeadLetter::from_row))
}

/// Puts the dead letter `id` back in the queue as a new message would be: due now, no attempts
/// counted. `false` when there is no such dead letter. Wake the dispatcher after commit.
pub async fn retry<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<bool, DbErr> {
    let result = entity::Entity::update_many()
        .col_expr(
            entity::Column::DeadLetteredAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(entity::Column::Attempts, Expr::value(0))
        .col_expr(
            entity::Column::NextAttemptAt,
            Expr::value(Utc::now().trunc_subsecs(6)),
        )
        .filter(entity::Column::Id.eq(id))
        .filter(entity::Column::DeliveredAt.is_null())
        .filter(entity::Column::DeadLetteredAt.is_not_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Deletes the dead letter `id` for good; `false` when there is no such dead letter.
pub async fn discard<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<bool, DbErr> {
    let result = entity::Entity::delete_many()
        .filter(entity::Column::Id.eq(id))
        .filter(entity::Column::DeliveredAt.is_null())
        .filter(entity::Column::DeadLetteredAt.is_not_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
