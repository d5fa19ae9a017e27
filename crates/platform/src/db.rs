//! Connecting to a service's database and bringing its schema up to date.
//!
//! SQLite (the embedded default) runs in WAL mode with `synchronous=FULL`: an answered write
//! survives a power cut. Every transaction that reads and then writes must begin IMMEDIATE, or
//! concurrent ones fail with "database is locked" instead of waiting; [`begin_write`] does that.
//! PostgreSQL is used as it comes, with `synchronous_commit` left on.

use std::path::Path;
use std::time::Duration;

use crate::settings::DatabaseSettings;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityName, EntityTrait, IdenStatic, Iterable, ModelTrait, RuntimeErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};
use sea_orm_migration::MigratorTrait;

/// Connects to `url` (`sqlite://…` or `postgres://…`), creating a SQLite file and its directory
/// when missing. A call that cannot get a connection within `settings.acquire_timeout_ms`
/// fails with an error [`is_unavailable`] recognises; the pool opens new connections by itself
/// once the server is back.
pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(settings.connect_timeout())
        .acquire_timeout(settings.acquire_timeout())
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        create_sqlite_directory(url)?;
        options
            // Readers run beside the one writer in WAL mode; sea-orm would otherwise use one
            // connection for everything.
            .max_connections(8)
            .map_sqlx_sqlite_opts(|sqlite: SqliteConnectOptions| {
                sqlite
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
    } else {
        options.max_connections(16);
    }
    Database::connect(options).await
}

/// Connects to `url` and applies every pending migration of `M`.
///
/// On PostgreSQL the migrations run under a transaction-level advisory lock taken on a
/// connection of its own, so that replicas (or their init containers) starting together
/// migrate one after the other instead of racing: the later ones wait, then find nothing left.
/// SQLite has one writer per file, and a file serves one process.
pub async fn connect_and_migrate<M: MigratorTrait>(
    url: &str,
    settings: &DatabaseSettings,
) -> Result<DatabaseConnection, DbErr> {
    let db = connect(url, settings).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .connect_timeout(settings.connect_timeout())
            .max_connections(1)
            .sqlx_logging(false);
        let guard = Database::connect(options).await?;
        let lock = guard.begin().await?;
        lock.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"),
        ))
        .await?;
        let migrated = M::up(&db, None).await;
        lock.commit().await?;
        guard.close().await?;
        migrated?;
    } else {
        M::up(&db, None).await?;
    }
    Ok(db)
}

/// The advisory lock key under which migrations run on PostgreSQL ("docket-m" in ASCII).
const MIGRATION_LOCK: i64 = 0x646f_636b_6574_2d6d;

/// Begins a transaction that may read and then write: IMMEDIATE on SQLite so that it takes the
/// write lock up front (and waits for it) instead of failing when it upgrades; a plain `BEGIN` on
/// PostgreSQL.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// The SQL placeholder for parameter `n` (from 1) on `backend`: `$n` on PostgreSQL, `?` on
/// SQLite.
pub fn placeholder(backend: DbBackend, n: usize) -> String {
    if backend == DbBackend::Postgres {
        format!("${n}")
    } else {
        "?".to_owned()
    }
}

/// Rows per INSERT, largest first. Rows go in as few statements as these sizes allow (the
/// binary digits of their number: at most seven for a batch under 128), and a statement of
/// each size always has the same text, so each is prepared once per connection and then only
/// bound again (sqlx keeps prepared statements by their text); an INSERT of exactly as many
/// rows as a batch happens to have would be parsed and planned anew each time. Every statement
/// is a round trip, which on PostgreSQL is what a batch's time goes to. 64 rows of the widest
/// table (27 columns) are far under SQLite's 32 766 parameters.
const ROWS_PER_INSERT: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// Inserts `models` as they are (every column, keys included), in the transaction `conn`.
pub async fn insert_models<C, M>(conn: &C, models: &[M]) -> Result<(), DbErr>
where
    C: ConnectionTrait,
    M: ModelTrait,
{
    let backend = conn.get_database_backend();
    let columns: Vec<<M::Entity as EntityTrait>::Column> =
        <M::Entity as EntityTrait>::Column::iter().collect();
    let table = M::Entity::default().table_name();
    let mut rest = models;
    for rows in statement_sizes(models.len()) {
        let (chunk, tail) = rest.split_at(rows);
        let values: Vec<Value> = chunk
            .iter()
            .flat_map(|model| columns.iter().map(|&column| model.get(column)))
            .collect();
        let sql = insert_sql(backend, table, columns.iter().map(|c| c.as_str()), rows);
        conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        rest = tail;
    }
    Ok(())
}

/// How many rows each INSERT of `rows` rows takes, largest first.
fn statement_sizes(mut rows: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    for size in ROWS_PER_INSERT {
        while rows >= size {
            sizes.push(size);
            rows -= size;
        }
    }
    sizes
}

/// `INSERT INTO "table" ("a", "b") VALUES (?, ?), (?, ?)`, `rows` rows, numbered placeholders
/// on PostgreSQL.
fn insert_sql<'a>(
    backend: DbBackend,
    table: &str,
    columns: impl ExactSizeIterator<Item = &'a str>,
    rows: usize,
) -> String {
    let width = columns.len();
    let names: Vec<String> = columns.map(|name| format!("\"{name}\"")).collect();
    let mut sql = format!("INSERT INTO \"{table}\" ({}) VALUES ", names.join(", "));
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&placeholder(backend, row * width + column + 1));
        }
        sql.push(')');
    }
    sql
}

/// Whether an error means the database could not be reached (or was lost mid-call), rather than
/// a failed statement: the client may try again.
pub fn is_unavailable(error: &DbErr) -> bool {
    if let DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause)) =
        error
    {
        return is_connection_error(cause);
    }
    matches!(error, DbErr::ConnectionAcquire(_) | DbErr::Conn(_))
}

/// Errors of the connection rather than of the statement: the socket broke, the pool gave up,
/// or the server says it is shutting down or cannot take connections (SQLSTATE class 08,
/// 57P01–57P03, 53300).
fn is_connection_error(error: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    if let Error::Database(database) = error {
        return database.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        });
    }
    matches!(
        error,
        Error::Io(_)
            | Error::Tls(_)
            | Error::PoolTimedOut
            | Error::PoolClosed
            | Error::WorkerCrashed
    )
}

/// `url` with any password replaced by `***`, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only fails for URLs that cannot have a password, which this one has.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn create_sqlite_directory(url: &str) -> Result<(), DbErr> {
    let (path, query) = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split_once('?')
        .unwrap_or((
            url.trim_start_matches("sqlite:").trim_start_matches("//"),
            "",
        ));
    if path.is_empty() || path.starts_with(":memory:") {
        return Ok(());
    }
    let failed = |what: &Path, error: std::io::Error| {
        DbErr::Custom(format!("cannot create {}: {error}", what.display()))
    };
    let path = Path::new(path);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::files::create_missing_dirs(parent).map_err(|e| failed(parent, e))?;
    }
    // SQLite creates files 0644 less the umask, and gives its -wal and -shm the mode of the
    // database: created 0600 here first, all three are the owner's alone whatever the umask.
    if !query.split('&').any(|pair| pair == "mode=ro") {
        crate::files::create_private_file(path).map_err(|e| failed(path, e))?;
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        let companion = Path::new(&companion);
        crate::files::restrict_file(companion).map_err(|e| failed(companion, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_goes_in_as_few_statements_of_the_fixed_sizes_as_its_binary_digits() {
        assert_eq!(statement_sizes(0), Vec::<usize>::new());
        assert_eq!(statement_sizes(1), [1]);
        assert_eq!(statement_sizes(14), [8, 4, 2]);
        assert_eq!(statement_sizes(127), [64, 32, 16, 8, 4, 2, 1]);
        assert_eq!(statement_sizes(200), [64, 64, 64, 8]);
        for rows in 0..300 {
            assert_eq!(statement_sizes(rows).iter().sum::<usize>(), rows);
        }
    }

    #[test]
    fn insert_statements_number_placeholders_on_postgres_only() {
        assert_eq!(
            insert_sql(DbBackend::Postgres, "t", ["a", "b"].into_iter(), 2),
            r#"INSERT INTO "t" ("a", "b") VALUES ($1, $2), ($3, $4)"#
        );
        assert_eq!(
            insert_sql(DbBackend::Sqlite, "t", ["a", "b"].into_iter(), 2),
            r#"INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?)"#
        );
    }
}
