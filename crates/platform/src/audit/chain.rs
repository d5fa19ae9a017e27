//! Appending to the chain and verifying it.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, Statement};
use sha2::{Digest, Sha256};

use super::entity;
use crate::auth::CallContext;
use crate::db::{insert_models, placeholder};

/// The `previous_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What one audit entry records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub subject: String,
    pub role: String,
    pub method: String,
    pub target_ids: Vec<String>,
    pub outcome: String,
    pub request_id: String,
    pub action: String,
    /// How many calls the entry stands for: 1, except for refused calls counted together (see
    /// `audit::refusals`).
    pub count: u64,
}

impl AuditRecord {
    /// A successful call described by its context, acting on `target_ids`.
    pub fn succeeded(context: &CallContext, action: &str, target_ids: Vec<String>) -> Self {
        Self {
            subject: context.subject().to_owned(),
            role: context.role_name().to_owned(),
            method: context.method.clone(),
            target_ids,
            outcome: "OK".to_owned(),
            request_id: context.request_id.clone(),
            action: action.to_owned(),
            count: 1,
        }
    }
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries_checked: i64,
    /// Where the chain first breaks and why; `None` when intact.
    pub broken: Option<(i64, String)>,
    pub head_hash: String,
}

/// Appends `record` in the transaction (or connection) `conn`; returns its sequence number.
pub async fn append<C: ConnectionTrait>(conn: &C, record: &AuditRecord) -> Result<i64, DbErr> {
    append_many(conn, std::slice::from_ref(record)).await
}

/// Appends `records` in order, in the transaction `conn`, with one statement per table however
/// many they are; returns the sequence number of the last (0 when there are none).
pub async fn append_many<C: ConnectionTrait>(
    conn: &C,
    records: &[AuditRecord],
) -> Result<i64, DbErr> {
    if records.is_empty() {
        return Ok(0);
    }
    let backend = conn.get_database_backend();
    // Taking the numbers locks the head row until commit: appends are serialised, so the
    // chain stays one line however many writers there are.
    let count = records.len() as i64;
    let head = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE audit_head SET last_sequence = last_sequence + {} WHERE id = 1 \
                 RETURNING last_sequence, last_hash",
                placeholder(backend, 1)
            ),
            [count.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the audit head row is missing".to_owned()))?;
    let last: i64 = head.try_get_by_index(0)?;
    let mut previous_hash: String = head.try_get_by_index(1)?;
    let occurred_at = Utc::now().trunc_subsecs(6);
    let mut rows = Vec::with_capacity(records.len());
    for (sequence, record) in (last - count + 1..).zip(records) {
        let target_ids = stored_target_ids(&record.target_ids);
        // Hashed as stored: a count past what the column holds is recorded as its largest.
        let stored_count = i64::try_from(record.count).unwrap_or(i64::MAX);
        let entry_hash = hash(
            sequence,
            occurred_at,
            record,
            &target_ids,
            stored_count,
            &previous_hash,
        );
        rows.push(entity::Model {
            sequence,
            occurred_at,
            subject: record.subject.clone(),
            role: record.role.clone(),
            method: record.method.clone(),
            target_ids,
            outcome: record.outcome.clone(),
            request_id: record.request_id.clone(),
            action: record.action.clone(),
            count: stored_count,
            previous_hash: std::mem::replace(&mut previous_hash, entry_hash.clone()),
            entry_hash,
        });
    }
    insert_models(conn, &rows).await?;
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "UPDATE audit_head SET last_hash = {} WHERE id = 1",
            placeholder(backend, 1)
        ),
        [previous_hash.into()],
    ))
    .await?;
    Ok(last)
}

/// Checks every entry, in order, against its content, its predecessor and the head.
pub async fn verify<C: ConnectionTrait>(conn: &C) -> Result<Verification, DbErr> {
    const PAGE: u64 = 1_000;
    let mut expected_sequence = 1i64;
    let mut expected_previous = GENESIS.to_owned();
    let mut broken = None;
    let mut checked = 0i64;
    'pages: loop {
        let rows = entity::Entity::find()
            .filter(entity::Column::Sequence.gte(expected_sequence))
            .order_by_asc(entity::Column::Sequence)
            .limit(PAGE)
            .all(conn)
            .await?;
        let last_page = (rows.len() as u64) < PAGE;
        for row in rows {
            checked += 1;
            if let Some(problem) = check(&row, expected_sequence, &expected_previous) {
                broken = Some(problem);
                break 'pages;
            }
            expected_previous = row.entry_hash;
            expected_sequence += 1;
        }
        if last_page {
            break;
        }
    }
    let head = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT last_sequence, last_hash FROM audit_head WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the audit head row is missing".to_owned()))?;
    let head_sequence: i64 = head.try_get_by_index(0)?;
    let head_hash: String = head.try_get_by_index(1)?;
    let chain_end = expected_sequence - 1;
    if broken.is_none() && (head_sequence != chain_end || head_hash != expected_previous) {
        broken = Some(if chain_end < head_sequence {
            (
                chain_end + 1,
                format!(
                    "the chain ends at entry {chain_end} but its head records entry \
                     {head_sequence}: entries were removed from the end, or the head was altered"
                ),
            )
        } else if chain_end > head_sequence {
            (
                head_sequence + 1,
                format!(
                    "the chain goes on to entry {chain_end} but its head records entry \
                     {head_sequence}: entries were added past the head, or the head was altered"
                ),
            )
        } else {
            (
                head_sequence,
                format!(
                    "entry {head_sequence} is not the one its head records: the newest entry \
                     was altered, or the head was"
                ),
            )
        });
    }
    Ok(Verification {
        entries_checked: checked,
        broken,
        head_hash,
    })
}

/// What is wrong with `row` where entry `expected_sequence` after `expected_previous` belongs.
fn check(
    row: &entity::Model,
    expected_sequence: i64,
    expected_previous: &str,
) -> Option<(i64, String)> {
    if row.sequence != expected_sequence {
        return Some((
            expected_sequence,
            format!(
                "entry {expected_sequence} is missing (the next is {})",
                row.sequence
            ),
        ));
    }
    if row.previous_hash != expected_previous {
        return Some((
            row.sequence,
            "the entry does not follow the one before it: entries were removed, inserted or \
             reordered"
                .to_owned(),
        ));
    }
    let record = AuditRecord {
        subject: row.subject.clone(),
        role: row.role.clone(),
        method: row.method.clone(),
        target_ids: Vec::new(),
        outcome: row.outcome.clone(),
        request_id: row.request_id.clone(),
        action: row.action.clone(),
        // Not read: the count is hashed as stored, below.
        count: 0,
    };
    let recomputed = hash(
        row.sequence,
        row.occurred_at,
        &record,
        &row.target_ids,
        row.count,
        &row.previous_hash,
    );
    (recomputed != row.entry_hash).then(|| {
        (
            row.sequence,
            "the entry's hash does not match its content: it was altered".to_owned(),
        )
    })
}

/// Target ids as stored: each between commas (`,a,b,`), so that one id can be matched whole with
/// `LIKE '%,id,%'` on any database.
fn stored_target_ids(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!(",{},", ids.join(","))
    }
}

/// SHA-256 over every field, each prefixed with its length so that no two different entries
/// can be written as the same bytes. The count is hashed as stored (`record.count` is not
/// read): a negative one as itself, so that no two stored counts hash alike. It is hashed only
/// when it is not 1, so that the entries written before it existed keep their hashes; one more
/// length-prefixed field cannot be mistaken for none.
fn hash(
    sequence: i64,
    occurred_at: DateTime<Utc>,
    record: &AuditRecord,
    target_ids: &str,
    count: i64,
    previous_hash: &str,
) -> String {
    let mut hasher = Sha256::new();
    let sequence = sequence.to_string();
    let micros = occurred_at.timestamp_micros().to_string();
    let count = (count != 1).then(|| count.to_string());
    for field in [
        sequence.as_str(),
        micros.as_str(),
        &record.subject,
        &record.role,
        &record.method,
        target_ids,
        &record.outcome,
        &record.request_id,
        &record.action,
        previous_hash,
    ]
    .into_iter()
    .chain(count.as_deref())
    {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}
