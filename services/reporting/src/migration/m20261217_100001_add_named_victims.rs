//! Victims known individually beside the casualty figures: each case keeps the groups it
//! reports (`case_reported_groups`) and its named victims by register entry
//! (`case_named_victims`), and `case_victims` becomes what is counted of them (see
//! `crate::named`). Until now every case counted its groups as reported, so they are copied:
//! every existing figure stays as it was.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const GROUPS: &str = "case_reported_groups";
const NAMED: &str = "case_named_victims";
/// The columns both tables share after their first two.
const VICTIM_COLUMNS: [&str; 6] = [
    "victim_status",
    "harm",
    "age_group",
    "sex",
    "victim_party",
    "age_band",
];

fn table(name: &str, middle: ColumnDef) -> TableCreateStatement {
    let mut create = Table::create();
    create
        .table(Alias::new(name))
        .col(text(Alias::new("case_id")))
        .col(big_integer(Alias::new("position")))
        .col(middle);
    for column in VICTIM_COLUMNS {
        if column == "victim_party" {
            create.col(text_null(Alias::new(column)));
        } else {
            create.col(text(Alias::new(column)));
        }
    }
    create
        .primary_key(
            Index::create()
                .col(Alias::new("case_id"))
                .col(Alias::new("position")),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(table(GROUPS, big_integer(Alias::new("count"))))
            .await?;
        manager
            .create_table(table(NAMED, text(Alias::new("register_id"))))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("case_named_victims_entry")
                    .table(Alias::new(NAMED))
                    .col(Alias::new("register_id"))
                    .to_owned(),
            )
            .await?;
        let columns = format!("case_id, position, count, {}", VICTIM_COLUMNS.join(", "));
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO {GROUPS} ({columns}) SELECT {columns} FROM case_victims"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [NAMED, GROUPS] {
            manager
                .drop_table(Table::drop().table(Alias::new(name)).to_owned())
                .await?;
        }
        Ok(())
    }
}
