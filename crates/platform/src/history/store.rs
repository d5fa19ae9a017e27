//! Writing and reading a record's changes in the two tables a service keeps them in.

use chrono::{DateTime, Utc};
use docket_domain::history::FieldChange;
use docket_proto::docket::common::v1 as common;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DbErr, Value};
use uuid::Uuid;

use super::{ChangesQuery, HistoryTables, StoredChange, StoredField};

/// Who made a change, and why.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// What was done, such as `correct allegation`.
    pub action: &'a str,
    /// The token subject of whoever did it.
    pub by: &'a str,
    pub reason: Option<&'a str>,
}

/// Keeps `fields` as `change`, revision `revision` of record `id`, at `at`, in the transaction
/// `conn`. A change of no field is not kept.
pub async fn write<C: ConnectionTrait>(
    conn: &C,
    tables: &HistoryTables,
    id: Uuid,
    revision: i64,
    change: Change<'_>,
    at: DateTime<Utc>,
    fields: Vec<FieldChange>,
) -> Result<(), DbErr> {
    if fields.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new(tables.changes))
        .columns(
            [
                tables.record,
                "revision",
                "action",
                "changed_by",
                "changed_at",
                "reason",
            ]
            .map(Alias::new),
        )
        .values([
            id.into(),
            revision.into(),
            change.action.into(),
            change.by.into(),
            at.into(),
            change.reason.map(str::to_owned).into(),
        ])
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    conn.execute(&insert).await?;

    let mut insert = Query::insert();
    insert.into_table(Alias::new(tables.fields)).columns(
        [
            tables.record,
            "revision",
            "field",
            "old_value",
            "new_value",
            "sealed",
        ]
        .map(Alias::new),
    );
    for field in fields {
        let sealed = field.sealed();
        insert
            .values([
                id.into(),
                revision.into(),
                field.field.into(),
                field.old.map(|v| v.text).into(),
                field.new.map(|v| v.text).into(),
                sealed.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    conn.execute(&insert).await?;
    Ok(())
}

/// One page of the changes `query` asks for, oldest first, and the next page's token.
pub async fn read<C: ConnectionTrait>(
    conn: &C,
    tables: &HistoryTables,
    query: &ChangesQuery,
) -> Result<(Vec<common::Change>, String), DbErr> {
    let record = || Expr::col(Alias::new(tables.record)).eq(Value::from(query.id));
    let mut select = Query::select();
    select
        .columns(["revision", "action", "changed_by", "changed_at", "reason"].map(Alias::new))
        .from(Alias::new(tables.changes))
        .and_where(record())
        .order_by(Alias::new("revision"), Order::Asc)
        .limit(query.limit());
    if let Some(after) = query.after {
        select.and_where(Expr::col(Alias::new("revision")).gt(after));
    }
    let changes = conn
        .query_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(StoredChange {
                revision: row.try_get_by_index(0)?,
                action: row.try_get_by_index(1)?,
                changed_by: row.try_get_by_index(2)?,
                changed_at: row.try_get_by_index(3)?,
                reason: row.try_get_by_index(4)?,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    let (Some(first), Some(last)) = (changes.first(), changes.last()) else {
        return Ok(query.page(Vec::new(), Vec::new()));
    };
    let mut select = Query::select();
    select
        .columns(["revision", "field", "old_value", "new_value", "sealed"].map(Alias::new))
        .from(Alias::new(tables.fields))
        .and_where(record())
        .and_where(Expr::col(Alias::new("revision")).gte(first.revision))
        .and_where(Expr::col(Alias::new("revision")).lte(last.revision))
        .order_by(Alias::new("revision"), Order::Asc)
        .order_by(Alias::new("field"), Order::Asc);
    let fields = conn
        .query_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(StoredField {
                revision: row.try_get_by_index(0)?,
                field: row.try_get_by_index(1)?,
                old_value: row.try_get_by_index(2)?,
                new_value: row.try_get_by_index(3)?,
                sealed: row.try_get_by_index(4)?,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(query.page(changes, fields))
}
