//! The victims' side and the children's age band beside each casualty figure; on each case, why
//! it was closed, whether it rests only on evidence judged fabricated, and what the counting rule
//! makes of it (see `crate::counting`); on each item, its level of verification.
//!
//! The projections made before are dropped here and rebuilt by replaying both streams, as when
//! the rollups came (`m20261128_000003`): the rollups gain cells for the new dimensions, and each
//! item is counted by the rule. Events recorded before the sources knew these facts carry none
//! of them: their victims' side is `unknown`, their children have no band, and a case closed
//! before the upgrade keeps counting until its next change brings its close reason.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables emptied for the replay; the cursors last, after the facts they stand for.
const REPLAYED: [&str; 10] = [
    "allegation_violations",
    "allegation_parties",
    "allegation_facts",
    "case_parties",
    "case_crime_types",
    "case_victims",
    "case_charges",
    "case_facts",
    "stat_rollups",
    "stream_cursors",
];

fn text_column(name: &str, default: Option<&str>) -> ColumnDef {
    match default {
        Some(value) => text(Alias::new(name)).default(value).to_owned(),
        None => text_null(Alias::new(name)),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in REPLAYED {
            db.execute_unprepared(&format!("DELETE FROM {table}"))
                .await?;
        }
        let columns = [
            (
                "allegation_facts",
                text_column("verification", Some("reported")),
            ),
            ("case_facts", text_column("close_reason", None)),
            (
                "case_facts",
                boolean(Alias::new("only_fabricated_evidence"))
                    .default(false)
                    .to_owned(),
            ),
            ("case_facts", text_column("counting", Some("counted"))),
            ("case_facts", text_column("verification", Some("accepted"))),
            ("case_victims", text_column("victim_party", None)),
            (
                "case_victims",
                text_column("age_band", Some("AGE_GROUP_UNKNOWN")),
            ),
        ];
        // One column per statement: SQLite alters one thing at a time.
        for (table, mut column) in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("case_victims", "age_band"),
            ("case_victims", "victim_party"),
            ("case_facts", "verification"),
            ("case_facts", "counting"),
            ("case_facts", "only_fabricated_evidence"),
            ("case_facts", "close_reason"),
            ("allegation_facts", "verification"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
