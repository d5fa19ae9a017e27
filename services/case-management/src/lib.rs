//! Case management: cases opened from accepted allegations, their legal qualification,
//! persons, charges and evidence assessments.
//!
//! For now it opens its database and serves health and reflection; its API comes with the
//! case-management issue.

use anyhow::Context;
use docket_platform::grpc::{GrpcHost, HostOptions};
use docket_platform::shutdown::ShutdownSignal;
use docket_platform::{ServiceKind, Settings};
use sea_orm_migration::prelude::*;
use tonic::service::Routes;

/// The case-management schema: no tables yet.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}

/// The case-management service, its database open and its listener bound.
#[derive(Debug)]
pub struct CaseManagement {
    host: GrpcHost,
}

impl CaseManagement {
    pub async fn start(settings: &Settings, options: HostOptions) -> anyhow::Result<Self> {
        let url = settings.database_url(ServiceKind::CaseManagement);
        docket_platform::db::connect_and_migrate::<Migrator>(&url)
            .await
            .with_context(|| {
                format!(
                    "cannot open the case-management database {}",
                    docket_platform::db::redact_url(&url)
                )
            })?;
        let listen = settings.listen(ServiceKind::CaseManagement);
        let host = GrpcHost::bind("case-management", listen, options)
            .await
            .with_context(|| format!("cannot bind case-management to {listen}"))?;
        Ok(Self { host })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.host.local_addr()
    }

    pub async fn serve(self, shutdown: ShutdownSignal) -> anyhow::Result<()> {
        Ok(self.host.serve(Routes::default(), &[], shutdown).await?)
    }
}
