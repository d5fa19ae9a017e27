//! Reporting: follows the event streams of intake and case management into projections, and
//! answers statistics, exports and reports from them.
//!
//! For now it opens its database and serves health and reflection; its API comes with the
//! reporting issue.

use anyhow::Context;
use docket_platform::grpc::{GrpcHost, HostOptions};
use docket_platform::shutdown::ShutdownSignal;
use docket_platform::{ServiceKind, Settings};
use sea_orm_migration::prelude::*;
use tonic::service::Routes;

/// The reporting schema: no tables yet.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}

/// The reporting service, its database open and its listener bound.
#[derive(Debug)]
pub struct Reporting {
    host: GrpcHost,
}

impl Reporting {
    pub async fn start(settings: &Settings, options: HostOptions) -> anyhow::Result<Self> {
        let url = settings.database_url(ServiceKind::Reporting);
        docket_platform::db::connect_and_migrate::<Migrator>(&url)
            .await
            .with_context(|| {
                format!(
                    "cannot open the reporting database {}",
                    docket_platform::db::redact_url(&url)
                )
            })?;
        let listen = settings.listen(ServiceKind::Reporting);
        let host = GrpcHost::bind("reporting", listen, options)
            .await
            .with_context(|| format!("cannot bind reporting to {listen}"))?;
        Ok(Self { host })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.host.local_addr()
    }

    pub async fn serve(self, shutdown: ShutdownSignal) -> anyhow::Result<()> {
        Ok(self.host.serve(Routes::default(), &[], shutdown).await?)
    }
}
