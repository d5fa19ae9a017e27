//! Cases stored straight into case management's tables, many to a statement: for `docket
//! bench`, which lists cases among a million without opening each over gRPC. No audit entry, no
//! event and no history is written: what is stored this way is seen by `ListCases` and
//! `GetCase`, not by reporting or search.

use chrono::{DateTime, Utc};
use docket_platform::db::begin_write;
use sea_orm::entity::prelude::*;
use sea_orm::{DatabaseConnection, DbErr};

use crate::entity::case;
use crate::entity::case_code::{self, CodeList};

/// Cases per statement: about 20 000 parameters, under both databases' limits.
const ROWS: usize = 1_000;

/// One case to store.
#[derive(Debug, Clone)]
pub struct BulkCase {
    pub id: Uuid,
    /// Must be unused, as `CASE-YYYY-NNNNNN` (the yearly counter is not advanced).
    pub reference: String,
    pub title: String,
    pub opened_at: DateTime<Utc>,
    pub parties: Vec<String>,
    pub crime_types: Vec<String>,
}

/// Stores `cases`, open, in one transaction.
pub async fn insert(db: &DatabaseConnection, cases: &[BulkCase]) -> Result<(), DbErr> {
    let txn = begin_write(db).await?;
    for chunk in cases.chunks(ROWS) {
        let rows = chunk.iter().map(|c| {
            case::ActiveModel::opened(c.id, c.reference.clone(), c.title.clone(), c.opened_at)
        });
        case::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
        let codes: Vec<_> = chunk
            .iter()
            .flat_map(|c| {
                case_code::rows(c.id, CodeList::Party, &c.parties).chain(case_code::rows(
                    c.id,
                    CodeList::Crime,
                    &c.crime_types,
                ))
            })
            .collect();
        for rows in codes.chunks(ROWS * 4) {
            case_code::Entity::insert_many(rows.iter().cloned())
                .exec_without_returning(&txn)
                .await?;
        }
    }
    txn.commit().await
}
