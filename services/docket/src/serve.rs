//! `docket serve`: start the chosen services, serve until SIGTERM or SIGINT, drain, stop.

use anyhow::Context;
use docket_case_management::CaseManagement;
use docket_intake::Intake;
use docket_platform::grpc::HostOptions;
use docket_platform::shutdown::{Shutdown, os_signal};
use docket_platform::{ServiceKind, Settings};
use docket_reporting::Reporting;
use tokio::task::JoinSet;

pub async fn run(settings: &Settings, kinds: &[ServiceKind]) -> anyhow::Result<()> {
    let mut settings = settings.clone();
    settings.settle_ports().context("cannot find free ports")?;
    let settings = &settings;
    let options = HostOptions::from_settings(settings)?;
    if let Some(listen) = settings.metrics.listen {
        docket_platform::metrics::install(listen).context("cannot serve metrics")?;
    }
    let (shutdown, _) = Shutdown::new();
    let mut running = JoinSet::new();
    // Every service is started (database open, port bound) before any serves, so that a bad
    // setting stops the process before it answers anything.
    for kind in kinds {
        let signal = shutdown.signal();
        match kind {
            ServiceKind::Intake => {
                let service = Intake::start(settings, options.clone()).await?;
                running.spawn(async move { ("intake", service.serve(signal).await) });
            }
            ServiceKind::CaseManagement => {
                let service = CaseManagement::start(settings, options.clone()).await?;
                running.spawn(async move { ("case-management", service.serve(signal).await) });
            }
            ServiceKind::Reporting => {
                let service = Reporting::start(settings, options.clone()).await?;
                running.spawn(async move { ("reporting", service.serve(signal).await) });
            }
        }
    }

    let trigger = shutdown.clone();
    tokio::spawn(async move {
        os_signal().await;
        trigger.trigger();
    });

    let mut failure = None;
    while let Some(joined) = running.join_next().await {
        let (name, result) = joined.context("a service task panicked")?;
        if let Err(error) = result {
            tracing::error!(service = name, error = %format!("{error:#}"), "service failed");
            failure.get_or_insert_with(|| error.context(format!("{name} failed")));
        }
        // One service down takes the process down: a half-running deployment misleads.
        shutdown.trigger();
    }
    failure.map_or(Ok(()), Err)
}

/// Applies the migrations of the services `kinds` to their databases.
pub async fn migrate(settings: &Settings, kinds: &[ServiceKind]) -> anyhow::Result<()> {
    use docket_platform::db::{connect_and_migrate, redact_url};
    for kind in kinds {
        let url = settings.database_url(*kind);
        let migrated = match kind {
            ServiceKind::Intake => {
                connect_and_migrate::<docket_intake::Migrator>(&url, &settings.database).await
            }
            ServiceKind::CaseManagement => {
                connect_and_migrate::<docket_case_management::Migrator>(&url, &settings.database)
                    .await
            }
            ServiceKind::Reporting => {
                connect_and_migrate::<docket_reporting::Migrator>(&url, &settings.database).await
            }
        };
        migrated
            .with_context(|| format!("cannot migrate {} at {}", kind.name(), redact_url(&url)))?;
        tracing::info!(service = kind.name(), "migrated");
    }
    Ok(())
}
