//! A running SQLite database copied without stopping its writers, and what the copy holds.
//!
//! `VACUUM INTO` writes the database as one read transaction sees it: in WAL mode the writers
//! go on while it reads, and the copy is a consistent snapshot of one moment that includes every
//! committed transaction (the WAL's too) and nothing half-done. It is also compact and needs no
//! `-wal` file beside it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use docket_platform::Settings;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

use super::manifest::ChainHead;

/// The file of a SQLite `url` (`sqlite://path?mode=rwc`), or `None` for another database.
pub fn file_of(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Copies the live database `source` into the new file `target` as of one moment.
pub async fn snapshot(settings: &Settings, source: &Path, target: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        source.is_file(),
        "there is no database at {}",
        source.display()
    );
    let url = format!("sqlite://{}", source.display());
    let db = docket_platform::db::connect(&url, &settings.database)
        .await
        .with_context(|| format!("cannot open {}", source.display()))?;
    let quoted = target.display().to_string().replace('\'', "''");
    let copied = db
        .execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
        .await
        .with_context(|| format!("cannot copy {}", source.display()));
    db.close().await.ok();
    copied?;
    Ok(())
}

/// A copied database, opened read-only to read what it holds.
pub struct Copy {
    db: DatabaseConnection,
    tables: Vec<String>,
}

impl Copy {
    pub async fn open(file: &Path) -> anyhow::Result<Self> {
        let mut options = ConnectOptions::new(format!("sqlite://{}?mode=ro", file.display()));
        options.sqlx_logging(false);
        let db = Database::connect(options)
            .await
            .with_context(|| format!("cannot open the copy {}", file.display()))?;
        let mut copy = Self {
            db,
            tables: Vec::new(),
        };
        copy.tables = copy
            .strings("SELECT name FROM sqlite_master WHERE type = 'table'")
            .await?;
        Ok(copy)
    }

    pub async fn close(self) {
        self.db.close().await.ok();
    }

    fn has(&self, table: &str) -> bool {
        self.tables.iter().any(|t| t == table)
    }

    async fn rows(&self, sql: &str) -> anyhow::Result<Vec<sea_orm::QueryResult>> {
        self.db
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .with_context(|| format!("cannot read the copy ({sql})"))
    }

    async fn strings(&self, sql: &str) -> anyhow::Result<Vec<String>> {
        self.rows(sql)
            .await?
            .iter()
            .map(|row| Ok(row.try_get_by_index::<String>(0)?))
            .collect()
    }

    /// The migrations applied, in order.
    pub async fn migrations(&self) -> anyhow::Result<Vec<String>> {
        if !self.has("seaql_migrations") {
            return Ok(Vec::new());
        }
        self.strings("SELECT version FROM seaql_migrations ORDER BY version")
            .await
    }

    /// The last entry of the audit chain.
    pub async fn audit_head(&self) -> anyhow::Result<Option<ChainHead>> {
        if !self.has("audit_entries") {
            return Ok(None);
        }
        let rows = self
            .rows("SELECT sequence, entry_hash FROM audit_entries ORDER BY sequence DESC LIMIT 1")
            .await?;
        rows.first()
            .map(|row| {
                Ok(ChainHead {
                    sequence: row.try_get_by_index(0)?,
                    entry_hash: row.try_get_by_index(1)?,
                })
            })
            .transpose()
    }

    /// The last sequence of the event stream.
    pub async fn stream_position(&self) -> anyhow::Result<i64> {
        if !self.has("event_log") {
            return Ok(0);
        }
        let rows = self
            .rows("SELECT COALESCE(MAX(sequence), 0) FROM event_log")
            .await?;
        Ok(match rows.first() {
            Some(row) => row.try_get_by_index(0)?,
            None => 0,
        })
    }

    /// Reporting's cursors by stream.
    pub async fn cursors(&self) -> anyhow::Result<BTreeMap<String, i64>> {
        if !self.has("stream_cursors") {
            return Ok(BTreeMap::new());
        }
        self.rows("SELECT stream, last_sequence FROM stream_cursors")
            .await?
            .iter()
            .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
            .collect()
    }

    /// Outbox messages not yet acknowledged.
    pub async fn undelivered(&self) -> anyhow::Result<Option<i64>> {
        if !self.has("outbox") {
            return Ok(None);
        }
        let rows = self
            .rows("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL")
            .await?;
        Ok(rows
            .first()
            .map(|row| row.try_get_by_index(0))
            .transpose()?)
    }

    /// The evidence files intake's copy refers to: SHA-256 and size.
    pub async fn evidence_blobs(&self) -> anyhow::Result<Vec<(String, i64)>> {
        if !self.has("evidence") {
            return Ok(Vec::new());
        }
        self.rows("SELECT sha256, MAX(size_bytes) FROM evidence GROUP BY sha256 ORDER BY sha256")
            .await?
            .iter()
            .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            file_of("sqlite://./data/intake.db?mode=rwc"),
            Some(PathBuf::from("./data/intake.db"))
        );
        assert_eq!(
            file_of("sqlite:/tmp/x.db"),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(file_of("postgres://u@h/db"), None);
        assert_eq!(file_of("sqlite::memory:"), None);
    }
}
