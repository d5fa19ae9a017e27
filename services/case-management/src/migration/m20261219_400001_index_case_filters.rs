//! Indexes behind the filters of `ListCases` that select few cases among many: by person, by
//! assignee, by incident period and by place, and the lookup of an allegation by its reference.
//! The place is matched ignoring case, so its index is on `lower(place_name)` (an expression
//! index both SQLite and PostgreSQL take).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: &[(&str, &str)] = &[
    ("ix_case_persons_person", "case_persons (person_id)"),
    ("ix_cases_investigator", "cases (assigned_investigator)"),
    ("ix_cases_prosecutor", "cases (assigned_prosecutor)"),
    ("ix_cases_period_start", "cases (period_start)"),
    ("ix_cases_place", "cases (lower(place_name))"),
    (
        "ix_case_allegations_reference",
        "case_allegations (reference)",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, on) in INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {on}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
