//! `docket serve`: start the chosen services, serve until SIGTERM or SIGINT, turn NOT_SERVING,
//! keep serving for `shutdown_delay_ms`, drain, stop.

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
    let delay = std::time::Duration::from_millis(settings.shutdown_delay_ms);
    tokio::spawn(async move {
        os_signal().await;
        // Health turns NOT_SERVING while calls and connections are still accepted, so that
        // clients and load balancers stop sending before the listeners close.
        trigger.announce();
        if !delay.is_zero() {
            tracing::info!(
                delay_ms = delay.as_millis(),
                "still accepting calls before draining; a second signal skips the wait"
            );
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = os_signal() => {}
            }
        }
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

/// Applies the migrations of the services `kinds` to their databases, trying again for up to
/// `wait` while a database cannot be reached.
pub async fn migrate(
    settings: &Settings,
    kinds: &[ServiceKind],
    wait: std::time::Duration,
) -> anyhow::Result<()> {
    use docket_platform::db::{is_unavailable, redact_url};
    let give_up = tokio::time::Instant::now() + wait;
    for kind in kinds {
        let url = settings.database_url(*kind);
        let mut pause = std::time::Duration::from_millis(250);
        loop {
            match migrate_one(settings, *kind, &url).await {
                Ok(()) => break,
                Err(error)
                    if is_unavailable(&error) && tokio::time::Instant::now() + pause < give_up =>
                {
                    tracing::warn!(
                        service = kind.name(),
                        error = %error,
                        retry_in_ms = pause.as_millis(),
                        "database unreachable; trying again"
                    );
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_secs(5));
                }
                Err(error) => {
                    return Err(error).with_context(|| {
                        format!("cannot migrate {} at {}", kind.name(), redact_url(&url))
                    });
                }
            }
        }
        tracing::info!(service = kind.name(), "migrated");
    }
    Ok(())
}

async fn migrate_one(
    settings: &Settings,
    kind: ServiceKind,
    url: &str,
) -> Result<(), sea_orm::DbErr> {
    use docket_platform::db::connect_and_migrate;
    let db = match kind {
        ServiceKind::Intake => {
            connect_and_migrate::<docket_intake::Migrator>(url, &settings.database).await?
        }
        ServiceKind::CaseManagement => {
            connect_and_migrate::<docket_case_management::Migrator>(url, &settings.database).await?
        }
        ServiceKind::Reporting => {
            connect_and_migrate::<docket_reporting::Migrator>(url, &settings.database).await?
        }
    };
    db.close().await
}
