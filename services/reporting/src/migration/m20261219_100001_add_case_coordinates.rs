//! Releases map a case's place to an administrative region by name, or, when the gazetteer
//! does not know the name, by the incident's coordinates, which the projection did not keep.
//! Cases projected before this migration keep no coordinates (NULL) and are mapped by name as
//! before; events written before case management sent coordinates carry none either, so the
//! stream is not replayed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in ["latitude", "longitude"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("case_facts"))
                        .add_column(double_null(Alias::new(column)))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["longitude", "latitude"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("case_facts"))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
