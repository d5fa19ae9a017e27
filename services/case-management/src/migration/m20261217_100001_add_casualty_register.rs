//! The casualty register: a victim known individually keeps, in the case that names them, what
//! the register records (status, harm, sex, age or year of birth, date and place of harm, the
//! allegations reporting them), and analysts' decisions on whether two such reports name the
//! same person are kept as a log (`casualty_match_decisions`) that is never rewritten, only
//! marked undone. Victims added before have no details: they are counted through the case's
//! victim groups as before, so every existing figure stays as it was. Their names, kept in clear
//! before victims' identities were sealed, are sealed at the next start (that needs the key).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const PERSONS: &str = "case_persons";

#[derive(DeriveIden)]
enum CasualtyMatchDecisions {
    Table,
    Id,
    PersonId,
    OtherPersonId,
    Decision,
    Reason,
    DecidedBy,
    DecidedAt,
    UndoneAt,
    UndoneBy,
}

fn columns() -> Vec<ColumnDef> {
    vec![
        string_null(Alias::new("victim_status")),
        string_null(Alias::new("harm")),
        string_null(Alias::new("sex")),
        integer_null(Alias::new("age_years")),
        integer_null(Alias::new("birth_year")),
        string_null(Alias::new("harm_date")),
        string_null(Alias::new("harm_place")),
        string_null(Alias::new("source_allegation_ids")),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for mut column in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(PERSONS))
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CasualtyMatchDecisions::Table)
                    .col(uuid(CasualtyMatchDecisions::Id).primary_key())
                    .col(uuid(CasualtyMatchDecisions::PersonId))
                    .col(uuid(CasualtyMatchDecisions::OtherPersonId))
                    .col(string(CasualtyMatchDecisions::Decision))
                    .col(text(CasualtyMatchDecisions::Reason))
                    .col(text(CasualtyMatchDecisions::DecidedBy))
                    .col(timestamp_with_time_zone(CasualtyMatchDecisions::DecidedAt))
                    .col(timestamp_with_time_zone_null(
                        CasualtyMatchDecisions::UndoneAt,
                    ))
                    .col(text_null(CasualtyMatchDecisions::UndoneBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("casualty_match_decisions_pair")
                    .table(CasualtyMatchDecisions::Table)
                    .col(CasualtyMatchDecisions::PersonId)
                    .col(CasualtyMatchDecisions::OtherPersonId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("casualty_match_decisions_other")
                    .table(CasualtyMatchDecisions::Table)
                    .col(CasualtyMatchDecisions::OtherPersonId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(CasualtyMatchDecisions::Table)
                    .to_owned(),
            )
            .await?;
        for column in columns().iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(PERSONS))
                        .drop_column(Alias::new(column.get_column_name()))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
