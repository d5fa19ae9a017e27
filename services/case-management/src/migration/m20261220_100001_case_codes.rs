//! The lists of codes a case keeps (parties, violation types, crime types) move from `,a,b,`
//! text columns of `cases` into `case_codes`, a row per code. `ListCases` filtered by a party
//! (or a crime type, or a kind of violation) then reads the index on (list, code, case id) in
//! id order and stops at the page's end, where `LIKE '%,AM,%'` read every case.
//!
//! Existing cases are copied over in the same transaction, a few thousand at a time, in the
//! order their lists gave; then the text columns are dropped. Down puts them back from the rows.

use sea_orm::prelude::Uuid;
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (list, the text column of `cases` it was kept in).
const LISTS: [(&str, &str); 3] = [
    ("party", "party_codes"),
    ("violation", "violation_types"),
    ("crime", "crime_type_codes"),
];

/// Cases copied per statement.
const CHUNK: u64 = 2_000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("case_codes"))
                    .col(uuid(Alias::new("case_id")))
                    .col(text(Alias::new("list")))
                    .col(integer(Alias::new("position")))
                    .col(text(Alias::new("code")))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("case_id"))
                            .col(Alias::new("list"))
                            .col(Alias::new("position")),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("case_codes"), Alias::new("case_id"))
                            .to(Alias::new("cases"), Alias::new("id")),
                    )
                    .to_owned(),
            )
            .await?;
        // The cases of one code, in id order: what a filtered page reads.
        manager
            .create_index(
                Index::create()
                    .name("ix_case_codes_code")
                    .table(Alias::new("case_codes"))
                    .col(Alias::new("list"))
                    .col(Alias::new("code"))
                    .col(Alias::new("case_id"))
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let mut after: Option<Uuid> = None;
        loop {
            let mut select = Query::select();
            select
                .columns(
                    ["id", "party_codes", "violation_types", "crime_type_codes"].map(Alias::new),
                )
                .from(Alias::new("cases"))
                .order_by(Alias::new("id"), Order::Asc)
                .limit(CHUNK);
            if let Some(after) = after {
                select.and_where(Expr::col(Alias::new("id")).gt(after));
            }
            let rows = db.query_all_raw(backend.build(&select)).await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.try_get::<Uuid>("", "id")?);
            let mut insert = Query::insert();
            insert.into_table(Alias::new("case_codes")).columns([
                Alias::new("case_id"),
                Alias::new("list"),
                Alias::new("position"),
                Alias::new("code"),
            ]);
            let mut any = false;
            for row in &rows {
                let id: Uuid = row.try_get("", "id")?;
                for (list, column) in LISTS {
                    let stored: String = row.try_get("", column)?;
                    for (code, position) in stored.split(',').filter(|c| !c.is_empty()).zip(0_i32..)
                    {
                        insert.values_panic([
                            Expr::val(id),
                            Expr::val(list),
                            Expr::val(position),
                            Expr::val(code),
                        ]);
                        any = true;
                    }
                }
            }
            if any {
                db.execute(&insert).await?;
            }
        }

        // One column per statement: SQLite alters one thing at a time.
        for (_, column) in LISTS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("cases"))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (_, column) in LISTS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("cases"))
                        .add_column(text(Alias::new(column)).default(""))
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT case_id, list, code FROM case_codes ORDER BY case_id, list, position",
            ))
            .await?;
        let mut lists: std::collections::BTreeMap<(Uuid, String), Vec<String>> =
            std::collections::BTreeMap::new();
        for row in rows {
            lists
                .entry((row.try_get("", "case_id")?, row.try_get("", "list")?))
                .or_default()
                .push(row.try_get("", "code")?);
        }
        for ((id, list), codes) in lists {
            let Some((_, column)) = LISTS.iter().find(|(l, _)| *l == list) else {
                continue;
            };
            let update = Query::update()
                .table(Alias::new("cases"))
                .value(Alias::new(*column), format!(",{},", codes.join(",")))
                .and_where(Expr::col(Alias::new("id")).eq(id))
                .to_owned();
            db.execute(&update).await?;
        }
        manager
            .drop_table(Table::drop().table(Alias::new("case_codes")).to_owned())
            .await
    }
}
