//! Evidence registered directly to a case (issue 15, item 5): material gathered during an
//! investigation belongs to no allegation. `evidence.allegation_id` becomes nullable, a
//! nullable `evidence.case_id` (a case in case management: no foreign key, the case lives in
//! another service's database) holds the case, and a CHECK keeps exactly one of the two set.
//! Every existing record keeps its allegation.
//!
//! PostgreSQL changes the table in place. SQLite cannot change a column's nullability nor add a
//! table constraint, so the table is rebuilt the way SQLite documents ("Making Other Kinds Of
//! Table Schema Changes", <https://www.sqlite.org/lang_altertable.html#otheralter>): with
//! foreign keys off, on one connection, in one transaction: create the new table, copy every
//! row, drop the old table, rename the new one, recreate the indexes, then
//! `PRAGMA foreign_key_check` (any row that no longer holds rolls it all back) before the
//! commit. Foreign keys can only be turned off outside a transaction, and only for the
//! connection that runs the statements, so this migration opens a connection of its own instead
//! of running in the migrator's transaction. It is safe to run again after a crash between its
//! commit and the migrator's record of it: a table that has `case_id` already is left alone.

use sea_orm::sqlx::sqlite::SqlitePoolOptions;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, SqlxSqliteConnector, TransactionTrait,
};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Exactly one of the allegation and the case, as SQL both databases read.
const ONE_OWNER: &str = "(allegation_id IS NULL) <> (case_id IS NULL)";
const CHECK_NAME: &str = "ck_evidence_allegation_or_case";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        // SQLite rebuilds on a connection of its own; PostgreSQL opens its transaction below.
        Some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("evidence", "case_id").await? {
            return Ok(());
        }
        match manager.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(manager, Shape::Registrable).await,
            DbBackend::Postgres | DbBackend::MySql | _ => {
                in_one_transaction(
                    manager,
                    &[
                        "ALTER TABLE evidence ALTER COLUMN allegation_id DROP NOT NULL".to_owned(),
                        "ALTER TABLE evidence ADD COLUMN case_id uuid NULL".to_owned(),
                        format!(
                            "ALTER TABLE evidence ADD CONSTRAINT {CHECK_NAME} CHECK ({ONE_OWNER})"
                        ),
                        "CREATE INDEX ix_evidence_case ON evidence (case_id, id)".to_owned(),
                    ],
                )
                .await
            }
        }
    }

    /// Back to every record having an allegation; refused while any is registered to a case
    /// (dropping the case would lose where it was registered).
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("evidence", "case_id").await? {
            return Ok(());
        }
        let registered = manager
            .get_connection()
            .query_one_raw(sea_orm::Statement::from_string(
                manager.get_database_backend(),
                "SELECT COUNT(*) AS n FROM evidence WHERE case_id IS NOT NULL",
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or_default();
        if registered > 0 {
            return Err(DbErr::Migration(format!(
                "{registered} evidence records are registered directly to a case and have no \
                 allegation: the evidence table cannot go back to requiring one"
            )));
        }
        match manager.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(manager, Shape::AllegationOnly).await,
            DbBackend::Postgres | DbBackend::MySql | _ => {
                in_one_transaction(
                    manager,
                    &[
                        "DROP INDEX ix_evidence_case".to_owned(),
                        format!("ALTER TABLE evidence DROP CONSTRAINT {CHECK_NAME}"),
                        "ALTER TABLE evidence DROP COLUMN case_id".to_owned(),
                        "ALTER TABLE evidence ALTER COLUMN allegation_id SET NOT NULL".to_owned(),
                    ],
                )
                .await
            }
        }
    }
}

/// Runs `statements` in one transaction (PostgreSQL changes its schema transactionally).
async fn in_one_transaction(
    manager: &SchemaManager<'_>,
    statements: &[String],
) -> Result<(), DbErr> {
    let txn = manager.begin().await?;
    for statement in statements {
        txn.get_connection().execute_unprepared(statement).await?;
    }
    txn.commit().await
}

/// The shape the SQLite table is rebuilt into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Before this migration: every record has an allegation.
    AllegationOnly,
    /// After: an allegation or a case, exactly one.
    Registrable,
}

/// The columns both shapes share, in the order of the first migration.
const SHARED_COLUMNS: &str = "id, allegation_id, sha256, size_bytes, file_name, \
    declared_media_type, detected_media_type, source_url, captured_at, collected_at, \
    collected_by, collection_method, derived_from_id, uploaded_by, uploaded_at, \
    exif_capture_time, exif_latitude, exif_longitude";

/// Rebuilds SQLite's `evidence` table into `shape` (see the module's note).
async fn rebuild_sqlite(manager: &SchemaManager<'_>, shape: Shape) -> Result<(), DbErr> {
    let own = own_connection(manager).await?;
    own.execute_unprepared("PRAGMA foreign_keys = OFF").await?;
    let rebuilt = rebuild_in_one_transaction(&own, shape).await;
    // Whatever happened, the connection is closed below: none is left with its keys off.
    let restored = own.execute_unprepared("PRAGMA foreign_keys = ON").await;
    let closed = own.close().await;
    rebuilt?;
    restored?;
    closed
}

/// A pool of one connection to the same SQLite file as `manager`'s, with its settings, so that
/// a pragma and the statements after it run on the same connection.
async fn own_connection(manager: &SchemaManager<'_>) -> Result<DatabaseConnection, DbErr> {
    let options = match manager.get_connection() {
        SchemaManagerConnection::Connection(db) => {
            db.get_sqlite_connection_pool().connect_options()
        }
        SchemaManagerConnection::Transaction(_) | SchemaManagerConnection::OwnedTransaction(_) => {
            return Err(DbErr::Migration(
                "the evidence table is rebuilt outside any transaction: SQLite turns foreign \
                 keys off only there"
                    .to_owned(),
            ));
        }
    };
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with((*options).clone())
        .await
        .map_err(|e| DbErr::Migration(format!("cannot open a connection to rebuild: {e}")))?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

async fn rebuild_in_one_transaction(own: &DatabaseConnection, shape: Shape) -> Result<(), DbErr> {
    let txn = own.begin().await?;
    let builder = txn.get_database_backend();
    txn.execute(&evidence_table("evidence_rebuilt", shape))
        .await?;
    txn.execute_unprepared(&format!(
        "INSERT INTO evidence_rebuilt ({SHARED_COLUMNS}) SELECT {SHARED_COLUMNS} FROM evidence"
    ))
    .await?;
    txn.execute_unprepared("DROP TABLE evidence").await?;
    txn.execute_unprepared("ALTER TABLE evidence_rebuilt RENAME TO evidence")
        .await?;
    let mut indexes = vec![
        ("ix_evidence_allegation", Evidence::AllegationId),
        ("ix_evidence_sha256", Evidence::Sha256),
    ];
    if shape == Shape::Registrable {
        indexes.push(("ix_evidence_case", Evidence::CaseId));
    }
    for (name, column) in indexes {
        txn.execute(
            &Index::create()
                .name(name)
                .table(Evidence::Table)
                .col(column)
                .col(Evidence::Id)
                .to_owned(),
        )
        .await?;
    }
    // Every reference into and out of the new table must still hold: custody events, working
    // copies and allegations.
    let broken = txn
        .query_all_raw(sea_orm::Statement::from_string(
            builder,
            "PRAGMA foreign_key_check",
        ))
        .await?;
    if !broken.is_empty() {
        txn.rollback().await?;
        return Err(DbErr::Migration(format!(
            "rebuilding the evidence table would break {} foreign key references: rolled back",
            broken.len()
        )));
    }
    txn.commit().await
}

/// The evidence table as the first migration made it, but for `shape`.
fn evidence_table(name: &str, shape: Shape) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(Alias::new(name))
        .col(pk_uuid(Evidence::Id))
        .col(if shape == Shape::Registrable {
            uuid_null(Evidence::AllegationId)
        } else {
            uuid(Evidence::AllegationId)
        })
        .col(string(Evidence::Sha256))
        .col(big_integer(Evidence::SizeBytes))
        .col(text(Evidence::FileName))
        .col(string_null(Evidence::DeclaredMediaType))
        .col(string_null(Evidence::DetectedMediaType))
        .col(text_null(Evidence::SourceUrl))
        .col(timestamp_with_time_zone_null(Evidence::CapturedAt))
        .col(timestamp_with_time_zone(Evidence::CollectedAt))
        .col(string(Evidence::CollectedBy))
        .col(string(Evidence::CollectionMethod))
        .col(uuid_null(Evidence::DerivedFromId))
        .col(string(Evidence::UploadedBy))
        .col(timestamp_with_time_zone(Evidence::UploadedAt))
        .col(string_null(Evidence::ExifCaptureTime))
        .col(double_null(Evidence::ExifLatitude))
        .col(double_null(Evidence::ExifLongitude));
    if shape == Shape::Registrable {
        table
            .col(uuid_null(Evidence::CaseId))
            .check((Alias::new(CHECK_NAME), Expr::cust(ONE_OWNER)));
    }
    table
        .foreign_key(
            ForeignKey::create()
                .name("fk_evidence_allegation")
                .from(Alias::new(name), Evidence::AllegationId)
                .to(Allegations::Table, Allegations::Id),
        )
        .foreign_key(
            // Named by the table's final name: the rename keeps it pointing at itself.
            ForeignKey::create()
                .name("fk_evidence_derived_from")
                .from(Alias::new(name), Evidence::DerivedFromId)
                .to(Evidence::Table, Evidence::Id),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum Allegations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Evidence {
    Table,
    Id,
    AllegationId,
    Sha256,
    SizeBytes,
    FileName,
    DeclaredMediaType,
    DetectedMediaType,
    SourceUrl,
    CapturedAt,
    CollectedAt,
    CollectedBy,
    CollectionMethod,
    DerivedFromId,
    UploadedBy,
    UploadedAt,
    ExifCaptureTime,
    ExifLatitude,
    ExifLongitude,
    CaseId,
}
