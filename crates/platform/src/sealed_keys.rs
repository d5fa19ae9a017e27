//! At start-up, every key that sealed a stored value must be configured and must open what it
//! sealed. A deployment restored without its keys, or given a new development key in place of
//! the lost one, would otherwise run and answer with identities it can never open again; it
//! refuses to start instead, naming the key id, while the keys can still be found and imported.
//!
//! Each key id is read from the stored values (`v1:<key id>:…`): one pass over each sealed
//! column at start, and one value per key opened as a sample.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use uuid::Uuid;

use crate::sealing::{SealError, Sealer};

/// A column holding sealed values, and how their sealing context is made.
#[derive(Debug, Clone, Copy)]
pub struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
    /// The row's UUID, which the context names.
    pub id_column: &'static str,
    /// The context is `<context_prefix>/<id>/<context_field>`.
    pub context_prefix: &'static str,
    pub context_field: &'static str,
    /// Extra SQL condition for rows whose value is sealed (`TRUE` when all are).
    pub condition: &'static str,
}

/// Why a service refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum MissingKeyError {
    #[error(
        "values in {table}.{column} are sealed with key {key_id:?}, which is not configured: \
         import it (`docket keys import`) or list it in `sealing.keys`; without it they can \
         never be opened"
    )]
    NotConfigured {
        table: &'static str,
        column: &'static str,
        key_id: String,
    },
    #[error(
        "the configured key {key_id:?} does not open the value it sealed in {table}.{column} of \
         row {row}: either it is another key under the same id (a development key generated \
         anew?), and the original must be imported (`docket keys import`), or that value was \
         altered"
    )]
    WrongKey {
        table: &'static str,
        column: &'static str,
        key_id: String,
        row: Uuid,
    },
    #[error("cannot check the sealed values: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// Checks every key id found in `columns` against `sealer`.
pub async fn check(
    sealer: &Sealer,
    db: &DatabaseConnection,
    columns: &[SealedColumn],
) -> Result<(), MissingKeyError> {
    let backend = db.get_database_backend();
    for sealed in columns {
        let key_id = if backend == DbBackend::Postgres {
            format!("split_part({}, ':', 2)", sealed.column)
        } else {
            format!(
                "substr({c}, 4, instr(substr({c}, 4), ':') - 1)",
                c = sealed.column
            )
        };
        let sql = format!(
            "SELECT DISTINCT {key_id} FROM {table} WHERE {column} LIKE 'v1:%' AND ({condition})",
            table = sealed.table,
            column = sealed.column,
            condition = sealed.condition,
        );
        let rows = db
            .query_all_raw(Statement::from_string(backend, sql))
            .await?;
        for row in rows {
            let key_id: String = row.try_get_by_index(0)?;
            if !sealer.has_key(&key_id) {
                return Err(MissingKeyError::NotConfigured {
                    table: sealed.table,
                    column: sealed.column,
                    key_id,
                });
            }
            sample_opens(sealer, db, sealed, &key_id).await?;
        }
    }
    Ok(())
}

/// Opens one value sealed with `key_id`.
async fn sample_opens(
    sealer: &Sealer,
    db: &DatabaseConnection,
    sealed: &SealedColumn,
    key_id: &str,
) -> Result<(), MissingKeyError> {
    let backend = db.get_database_backend();
    let placeholder = crate::db::placeholder(backend, 1);
    let sql = format!(
        "SELECT {id}, {column} FROM {table} WHERE {column} LIKE {placeholder} AND ({condition}) \
         LIMIT 1",
        id = sealed.id_column,
        column = sealed.column,
        table = sealed.table,
        condition = sealed.condition,
    );
    let pattern = Value::from(format!("v1:{key_id}:%"));
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [pattern]))
        .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let id: Uuid = row.try_get_by_index(0)?;
    let value: String = row.try_get_by_index(1)?;
    let context = format!("{}/{id}/{}", sealed.context_prefix, sealed.context_field);
    match sealer.open(&value, &context) {
        Ok(_) | Err(SealError::Malformed | SealError::Random(_)) => Ok(()),
        Err(SealError::UnknownKey(_)) => Err(MissingKeyError::NotConfigured {
            table: sealed.table,
            column: sealed.column,
            key_id: key_id.to_owned(),
        }),
        Err(SealError::Tampered) => Err(MissingKeyError::WrongKey {
            table: sealed.table,
            column: sealed.column,
            key_id: key_id.to_owned(),
            row: id,
        }),
    }
}
