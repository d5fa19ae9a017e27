//! The two tables a service keeps the history of one kind of record in.

use sea_orm_migration::{prelude::*, schema::*};

use super::HistoryTables;

/// Creates the tables of `tables`: one row per change (keyed by record and revision), one per
/// field a change touched. A sealed value is stored in its sealed form, never in clear.
pub async fn create_tables(
    manager: &SchemaManager<'_>,
    tables: &HistoryTables,
) -> Result<(), DbErr> {
    let record = || Alias::new(tables.record);
    let revision = || Alias::new("revision");
    let (parent, parent_key) = tables.parent;
    manager
        .create_table(
            Table::create()
                .table(Alias::new(tables.changes))
                .col(uuid(record()))
                .col(big_integer(revision()))
                .col(string(Alias::new("action")))
                .col(text(Alias::new("changed_by")))
                .col(timestamp_with_time_zone(Alias::new("changed_at")))
                .col(text_null(Alias::new("reason")))
                .primary_key(Index::create().col(record()).col(revision()))
                .foreign_key(
                    ForeignKey::create()
                        .from(Alias::new(tables.changes), record())
                        .to(Alias::new(parent), Alias::new(parent_key)),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(Alias::new(tables.fields))
                .col(uuid(record()))
                .col(big_integer(revision()))
                .col(string(Alias::new("field")))
                .col(text_null(Alias::new("old_value")))
                .col(text_null(Alias::new("new_value")))
                .col(boolean(Alias::new("sealed")))
                .primary_key(
                    Index::create()
                        .col(record())
                        .col(revision())
                        .col(Alias::new("field")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Alias::new(tables.fields), (record(), revision()))
                        .to(Alias::new(tables.changes), (record(), revision())),
                )
                .to_owned(),
        )
        .await
}

/// Drops the tables of `tables`.
pub async fn drop_tables(manager: &SchemaManager<'_>, tables: &HistoryTables) -> Result<(), DbErr> {
    for table in [tables.fields, tables.changes] {
        manager
            .drop_table(Table::drop().table(Alias::new(table)).to_owned())
            .await?;
    }
    Ok(())
}
