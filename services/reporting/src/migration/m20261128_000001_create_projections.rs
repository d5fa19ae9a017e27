//! Fact tables, one row per item and one per value of each many-valued dimension, so that a
//! statistic is a GROUP BY over indexed columns, never a scan of events.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, columns, primary key columns, extra index columns)
type Spec = (
    &'static str,
    &'static [(&'static str, Kind)],
    &'static [&'static str],
    &'static [&'static str],
);

#[derive(Clone, Copy)]
enum Kind {
    Text,
    TextNull,
    BigInt,
    Time,
    TimeNull,
}

const TABLES: &[Spec] = &[
    (
        "stream_cursors",
        &[
            ("stream", Kind::Text),
            ("last_sequence", Kind::BigInt),
            ("last_event_time", Kind::TimeNull),
            ("last_applied_time", Kind::TimeNull),
        ],
        &["stream"],
        &[],
    ),
    (
        "allegation_facts",
        &[
            ("allegation_id", Kind::Text),
            ("status", Kind::Text),
            ("received_time", Kind::Time),
            ("incident_week", Kind::TextNull),
            ("place", Kind::TextNull),
        ],
        &["allegation_id"],
        &["status"],
    ),
    (
        "allegation_violations",
        &[
            ("allegation_id", Kind::Text),
            ("violation_type", Kind::Text),
        ],
        &["allegation_id", "violation_type"],
        &["violation_type"],
    ),
    (
        "allegation_parties",
        &[("allegation_id", Kind::Text), ("party_code", Kind::Text)],
        &["allegation_id", "party_code"],
        &["party_code"],
    ),
    (
        "case_facts",
        &[
            ("case_id", Kind::Text),
            ("status", Kind::Text),
            ("incident_week", Kind::TextNull),
            ("place", Kind::TextNull),
        ],
        &["case_id"],
        &["status"],
    ),
    (
        "case_parties",
        &[("case_id", Kind::Text), ("party_code", Kind::Text)],
        &["case_id", "party_code"],
        &["party_code"],
    ),
    (
        "case_crime_types",
        &[("case_id", Kind::Text), ("crime_type_code", Kind::Text)],
        &["case_id", "crime_type_code"],
        &["crime_type_code"],
    ),
    (
        "case_victims",
        &[
            ("case_id", Kind::Text),
            ("position", Kind::BigInt),
            ("count", Kind::BigInt),
            ("victim_status", Kind::Text),
            ("harm", Kind::Text),
            ("age_group", Kind::Text),
            ("sex", Kind::Text),
        ],
        &["case_id", "position"],
        &[],
    ),
    (
        "case_charges",
        &[
            ("charge_id", Kind::Text),
            ("case_id", Kind::Text),
            ("person_id", Kind::Text),
            ("crime_type_code", Kind::Text),
            ("in_absentia", Kind::Text),
            ("status", Kind::Text),
        ],
        &["charge_id"],
        &["case_id"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns, key, indexed) in TABLES {
            let mut create = Table::create();
            create.table(Alias::new(*table));
            for (name, kind) in *columns {
                let name = Alias::new(*name);
                let mut column = match kind {
                    Kind::Text => text(name),
                    Kind::TextNull => text_null(name),
                    Kind::BigInt => big_integer(name),
                    Kind::Time => timestamp_with_time_zone(name),
                    Kind::TimeNull => timestamp_with_time_zone_null(name),
                };
                create.col(&mut column);
            }
            let mut primary = Index::create();
            for column in *key {
                primary.col(Alias::new(*column));
            }
            create.primary_key(&mut primary);
            manager.create_table(create.to_owned()).await?;
            for column in *indexed {
                manager
                    .create_index(
                        Index::create()
                            .name(format!("ix_{table}_{column}"))
                            .table(Alias::new(*table))
                            .col(Alias::new(*column))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, ..) in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(Alias::new(*table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
