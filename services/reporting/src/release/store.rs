//! Reading the projections for a release, and keeping releases.

use std::collections::BTreeMap;

use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, IsolationLevel,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::protect::EarlierCell;
use crate::facts::{CaseItem, ChargeRow, Point, VictimRow, or_unknown};
use crate::sql::{execute, query};

/// Cases read per page.
const PAGE: usize = 5_000;

/// Where each stream stood (by name, ordered) when the cases given to `each` were read.
pub type Positions = Vec<(String, i64)>;

/// Reads every case, a page at a time in the order of their ids, giving each to `each`, and
/// the stream positions, all in one read transaction, so that the positions are exactly those
/// of the cases read (the projector moves facts and cursor together).
pub async fn snapshot(
    db: &DatabaseConnection,
    mut each: impl FnMut(&CaseItem),
) -> Result<Positions, DbErr> {
    // SQLite's read transaction sees one snapshot already (WAL); PostgreSQL's default READ
    // COMMITTED would see each statement's own.
    let txn = if db.get_database_backend() == DbBackend::Postgres {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?
    } else {
        db.begin().await?
    };
    let mut positions = Vec::new();
    for row in query(
        &txn,
        "SELECT stream, last_sequence FROM stream_cursors",
        vec![],
    )
    .await?
    {
        positions.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?));
    }
    positions.sort();
    let mut after = String::new();
    loop {
        let page = page(&txn, &after).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for case in &page {
            each(case);
        }
        if page.len() < PAGE {
            break;
        }
    }
    txn.commit().await?;
    Ok(positions)
}

/// The cases after `after` in id order, at most [`PAGE`] of them, with their parties, crime
/// types, casualty figures and charges.
async fn page<C: ConnectionTrait>(conn: &C, after: &str) -> Result<Vec<CaseItem>, DbErr> {
    let mut cases: BTreeMap<String, CaseItem> = BTreeMap::new();
    for row in query(
        conn,
        &format!(
            "SELECT case_id, status, incident_week, place, close_reason, \
             only_fabricated_evidence, latitude, longitude FROM case_facts WHERE case_id > ? \
             ORDER BY case_id LIMIT {PAGE}"
        ),
        vec![after.into()],
    )
    .await?
    {
        let id: String = row.try_get_by_index(0)?;
        let week: Option<String> = row.try_get_by_index(2)?;
        let place: Option<String> = row.try_get_by_index(3)?;
        cases.insert(
            id.clone(),
            CaseItem {
                id,
                status: row.try_get_by_index(1)?,
                week: or_unknown(week.as_deref()),
                place: or_unknown(place.as_deref()),
                coordinates: Point::new(row.try_get_by_index(6)?, row.try_get_by_index(7)?),
                close_reason: row.try_get_by_index(4)?,
                only_fabricated_evidence: row.try_get_by_index(5)?,
                ..Default::default()
            },
        );
    }
    let (Some(first), Some(last)) = (
        cases.keys().next().cloned(),
        cases.keys().next_back().cloned(),
    ) else {
        return Ok(Vec::new());
    };
    let range = || vec![first.as_str().into(), last.as_str().into()];
    let mut pairs = Vec::new();
    for (table, column) in [
        ("case_parties", "party_code"),
        ("case_crime_types", "crime_type_code"),
    ] {
        for row in query(
            conn,
            &format!("SELECT case_id, {column} FROM {table} WHERE case_id >= ? AND case_id <= ?"),
            range(),
        )
        .await?
        {
            pairs.push((
                table,
                row.try_get_by_index::<String>(0)?,
                row.try_get_by_index::<String>(1)?,
            ));
        }
    }
    for (table, id, value) in pairs {
        if let Some(case) = cases.get_mut(&id) {
            if table == "case_parties" {
                case.parties.push(value);
            } else {
                case.crimes.push(value);
            }
        }
    }
    for row in query(
        conn,
        "SELECT case_id, count, victim_status, harm, age_group, sex, victim_party, age_band \
         FROM case_victims \
         WHERE case_id >= ? AND case_id <= ? ORDER BY case_id, position",
        range(),
    )
    .await?
    {
        let id: String = row.try_get_by_index(0)?;
        if let Some(case) = cases.get_mut(&id) {
            case.victims.push(VictimRow {
                count: row.try_get_by_index(1)?,
                status: row.try_get_by_index(2)?,
                harm: row.try_get_by_index(3)?,
                age_group: row.try_get_by_index(4)?,
                sex: row.try_get_by_index(5)?,
                party: or_unknown(row.try_get_by_index::<Option<String>>(6)?.as_deref()),
                age_band: row.try_get_by_index(7)?,
            });
        }
    }
    for row in query(
        conn,
        "SELECT case_id, charge_id, person_id, crime_type_code, in_absentia, status \
         FROM case_charges WHERE case_id >= ? AND case_id <= ?",
        range(),
    )
    .await?
    {
        let id: String = row.try_get_by_index(0)?;
        if let Some(case) = cases.get_mut(&id) {
            case.charges.push(ChargeRow {
                charge_id: row.try_get_by_index(1)?,
                person_id: row.try_get_by_index(2)?,
                crime: row.try_get_by_index(3)?,
                in_absentia: row.try_get_by_index(4)?,
                status: row.try_get_by_index(5)?,
            });
        }
    }
    let mut cases: Vec<CaseItem> = cases.into_values().collect();
    // Rows come in whatever order the database likes; the items must not depend on it.
    for case in &mut cases {
        case.parties.sort();
        case.crimes.sort();
        case.charges.sort_by(|a, b| a.charge_id.cmp(&b.charge_id));
    }
    Ok(cases)
}

/// A cell's true value as the office keeps it (never published as such).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeptCell {
    table: String,
    keys: Vec<String>,
    value: i64,
    withheld: bool,
}

/// An earlier release, as protection needs it.
#[derive(Debug, Clone)]
pub struct Earlier {
    pub number: i64,
    pub document_sha256: String,
    pub cells: Vec<EarlierCell>,
}

/// Every release so far, oldest first.
pub async fn earlier<C: ConnectionTrait>(conn: &C) -> Result<Vec<Earlier>, DbErr> {
    let mut releases = Vec::new();
    for row in query(
        conn,
        "SELECT number, document_sha256, true_cells FROM releases ORDER BY number",
        vec![],
    )
    .await?
    {
        let kept: String = row.try_get_by_index(2)?;
        let kept: Vec<KeptCell> = serde_json::from_str(&kept)
            .map_err(|e| DbErr::Custom(format!("a release's kept cells do not read: {e}")))?;
        releases.push(Earlier {
            number: row.try_get_by_index(0)?,
            document_sha256: row.try_get_by_index(1)?,
            cells: kept
                .into_iter()
                .map(|k| EarlierCell {
                    table: k.table,
                    keys: k.keys,
                    value: k.value,
                    withheld: k.withheld,
                })
                .collect(),
        });
    }
    Ok(releases)
}

/// Stores a release.
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    number: i64,
    title: &str,
    created_time: chrono::DateTime<chrono::Utc>,
    document_sha256: &str,
    signed_file: &str,
    cells: &[EarlierCell],
) -> Result<(), DbErr> {
    let kept: Vec<KeptCell> = cells
        .iter()
        .map(|c| KeptCell {
            table: c.table.clone(),
            keys: c.keys.clone(),
            value: c.value,
            withheld: c.withheld,
        })
        .collect();
    let kept = serde_json::to_string(&kept).map_err(|e| DbErr::Custom(e.to_string()))?;
    execute(
        conn,
        "INSERT INTO releases (number, title, created_time, document_sha256, signed_file, \
         true_cells) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            number.into(),
            title.into(),
            created_time.into(),
            document_sha256.into(),
            signed_file.into(),
            kept.into(),
        ],
    )
    .await
}

/// The highest release number so far, 0 before the first.
pub async fn last_number<C: ConnectionTrait>(conn: &C) -> Result<i64, DbErr> {
    let rows = query(
        conn,
        "SELECT COALESCE(MAX(number), 0) FROM releases",
        vec![],
    )
    .await?;
    match rows.first() {
        Some(row) => row.try_get_by_index(0),
        None => Ok(0),
    }
}

/// The signed files of every release, newest first.
pub async fn files<C: ConnectionTrait>(conn: &C) -> Result<Vec<String>, DbErr> {
    query(
        conn,
        "SELECT signed_file FROM releases ORDER BY number DESC",
        vec![],
    )
    .await?
    .iter()
    .map(|row| row.try_get_by_index(0))
    .collect()
}

/// The signed file of release `number`.
pub async fn file<C: ConnectionTrait>(conn: &C, number: i64) -> Result<Option<String>, DbErr> {
    let rows = query(
        conn,
        "SELECT signed_file FROM releases WHERE number = ?",
        vec![number.into()],
    )
    .await?;
    rows.first().map(|row| row.try_get_by_index(0)).transpose()
}
