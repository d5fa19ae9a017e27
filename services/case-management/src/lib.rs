//! Case management: cases opened from accepted allegations, their legal qualification,
//! persons, charges and evidence assessments.
//!
//! For now it opens its database and serves health, reflection and its (empty) audit log; its
//! API comes with the
//! case-management issue.

use std::sync::Arc;

use anyhow::Context;
use docket_platform::audit::{AUDIT_ACCESS, AuditApi, CreateAuditLog};
use docket_platform::auth::{AccessPolicy, AccessTables, AuthLayer, TokenVerifier};
use docket_platform::grpc::{GrpcHost, HostOptions};
use docket_platform::shutdown::ShutdownSignal;
use docket_platform::{ServiceKind, Settings};
use docket_proto::docket::audit::v1::audit_service_server::{AuditServiceServer, SERVICE_NAME};
use sea_orm_migration::prelude::*;
use tonic::service::Routes;

/// Who may call each method of each service this host serves; nothing else may be called.
pub const ACCESS: &AccessTables = &[(SERVICE_NAME, AUDIT_ACCESS)];

/// The case-management schema: its audit log, for now.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateAuditLog)]
    }
}

/// The case-management service, its database open and its listener bound.
#[derive(Debug)]
pub struct CaseManagement {
    host: GrpcHost,
    audit: AuditApi,
    auth: AuthLayer,
}

impl CaseManagement {
    pub async fn start(settings: &Settings, options: HostOptions) -> anyhow::Result<Self> {
        let url = settings.database_url(ServiceKind::CaseManagement);
        let verifier = TokenVerifier::from_settings(settings)?;
        let db = docket_platform::db::connect_and_migrate::<Migrator>(&url)
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
        let policy = AccessPolicy::from_tables(ACCESS);
        Ok(Self {
            host,
            audit: AuditApi::new(db),
            auth: AuthLayer::new(Arc::new(verifier), policy),
        })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.host.local_addr()
    }

    pub async fn serve(self, shutdown: ShutdownSignal) -> anyhow::Result<()> {
        let routes = Routes::new(AuditServiceServer::new(self.audit));
        Ok(self
            .host
            .serve(routes, &[SERVICE_NAME], self.auth, shutdown)
            .await?)
    }
}
