//! Re-sealing old values with the current key after a rotation, in the background: each
//! service, once serving, re-seals every value of its sealed columns that another key sealed,
//! a batch per transaction. It keeps no progress of its own: what is left is what the database
//! still holds under an old key, so a process killed mid-rotation (kill -9) goes on where it
//! stopped when it starts again. A value changed meanwhile by a request is left alone (the
//! update names the value it read), and picked up again on the next pass if it still needs it.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, Value};
use uuid::Uuid;

use crate::db::{begin_write, placeholder};
use crate::sealed_keys::SealedColumn;
use crate::sealing::Sealer;
use crate::shutdown::ShutdownSignal;

/// Values re-sealed per transaction: short enough not to hold SQLite's write lock for long.
const BATCH: u64 = 50;

/// Background re-sealing, stopped when dropped (as a crash would stop it: the batch in flight
/// rolls back).
#[derive(Debug)]
pub struct Resealing(tokio::task::JoinHandle<()>);

impl Drop for Resealing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Re-seals one service's sealed columns with its current key.
#[derive(Debug, Clone)]
pub struct Resealer {
    sealer: Sealer,
    db: DatabaseConnection,
    columns: &'static [SealedColumn],
    /// Waited between two batches (`sealing.reseal_pause_ms`).
    pause: std::time::Duration,
}

impl Resealer {
    pub fn new(sealer: Sealer, db: DatabaseConnection, columns: &'static [SealedColumn]) -> Self {
        Self {
            sealer,
            db,
            columns,
            pause: std::time::Duration::ZERO,
        }
    }

    /// Waits `pause` between two batches, leaving the database to requests.
    pub fn with_pause(mut self, pause: std::time::Duration) -> Self {
        self.pause = pause;
        self
    }

    /// Runs [`Resealer::run`] in the background until the returned guard is dropped.
    pub fn spawn(self, shutdown: ShutdownSignal) -> Resealing {
        Resealing(tokio::spawn(self.run(shutdown)))
    }

    /// Re-seals until nothing is left or `shutdown`; a batch cut short rolls back whole.
    pub async fn run(self, shutdown: ShutdownSignal) {
        tokio::select! {
            () = shutdown.wait() => {}
            outcome = self.reseal_all() => match outcome {
                Ok(0) => {}
                Ok(resealed) => tracing::info!(
                    resealed,
                    key = self.sealer.current_key_id(),
                    "sealed values re-sealed with the current key"
                ),
                Err(error) => tracing::error!(%error, "re-sealing stopped; it resumes at the next start"),
            },
        }
    }

    /// Re-seals every value of every column; returns how many.
    pub async fn reseal_all(&self) -> Result<u64, DbErr> {
        let mut total = 0;
        for column in self.columns {
            loop {
                let (found, resealed) = self.reseal_batch(column).await?;
                total += resealed;
                if found == 0 {
                    break;
                }
                if resealed > 0 {
                    tracing::debug!(
                        table = column.table,
                        column = column.column,
                        resealed,
                        "a batch of sealed values re-sealed"
                    );
                }
                if !self.pause.is_zero() {
                    tokio::time::sleep(self.pause).await;
                }
                if resealed == 0 {
                    // Values no configured key opens (the start-up check names their key),
                    // or changed under us: leave them for the next start.
                    tracing::warn!(
                        table = column.table,
                        column = column.column,
                        "sealed values that could not be re-sealed are left as they are"
                    );
                    break;
                }
            }
        }
        Ok(total)
    }

    /// One transaction: up to `BATCH` values under an old key; returns (found, re-sealed).
    async fn reseal_batch(&self, column: &SealedColumn) -> Result<(u64, u64), DbErr> {
        let backend = self.db.get_database_backend();
        let current = self.sealer.current_key_id();
        let txn = begin_write(&self.db).await?;
        let select = format!(
            "SELECT {id}, {col} FROM {table} WHERE {col} LIKE 'v1:%' AND {col} NOT LIKE {p1} \
             AND ({condition}) LIMIT {BATCH}",
            id = column.id_column,
            col = column.column,
            table = column.table,
            p1 = placeholder(backend, 1),
            condition = column.condition,
        );
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                select,
                [Value::from(format!("v1:{current}:%"))],
            ))
            .await?;
        let found = rows.len() as u64;
        let mut resealed = 0;
        let update = format!(
            "UPDATE {table} SET {col} = {p1} WHERE {id} = {p2} AND {col} = {p3}",
            table = column.table,
            col = column.column,
            id = column.id_column,
            p1 = placeholder(backend, 1),
            p2 = placeholder(backend, 2),
            p3 = placeholder(backend, 3),
        );
        for row in rows {
            let id: Uuid = row.try_get_by_index(0)?;
            let old: String = row.try_get_by_index(1)?;
            let context = format!("{}/{id}/{}", column.context_prefix, column.context_field);
            let Ok(clear) = self.sealer.open(&old, &context) else {
                continue;
            };
            let Ok(new) = self.sealer.seal(&clear, &context) else {
                continue;
            };
            let done = txn
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    update.clone(),
                    [Value::from(new), Value::from(id), Value::from(old)],
                ))
                .await?;
            resealed += done.rows_affected();
        }
        txn.commit().await?;
        Ok((found, resealed))
    }
}
