//! The lease table, one row per lease name, created by every service that takes a lease.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `leases`.
#[derive(Debug)]
pub struct CreateLeases;

impl MigrationName for CreateLeases {
    fn name(&self) -> &str {
        "m20261210_000400_create_leases"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateLeases {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Leases::Table)
                    .col(string(Leases::Name).primary_key())
                    .col(string(Leases::Holder))
                    // Milliseconds since the Unix epoch by the database's clock.
                    .col(big_integer(Leases::ExpiresAtMs))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Leases::Table).to_owned())
            .await
    }
}

/// Adds `leases.incarnation`: which incarnation of the holder's identity has the lease, so that
/// a restarted replica knows a row of its identity from its own live one.
#[derive(Debug)]
pub struct AddLeaseIncarnation;

impl MigrationName for AddLeaseIncarnation {
    fn name(&self) -> &str {
        "m20261216_040001_add_lease_incarnation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddLeaseIncarnation {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Leases::Table)
                    .add_column(string(Leases::Incarnation).default(""))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Leases::Table)
                    .drop_column(Leases::Incarnation)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Leases {
    Table,
    Name,
    Holder,
    ExpiresAtMs,
    Incarnation,
}
