//! What a host's health says, and when.
//!
//! - `""` (the overall status) and each service's own name: *readiness*. SERVING while the
//!   host serves, its database answers (when it watches one) and no shutdown was announced.
//!   Kubernetes' readiness probe and `docket health` ask this.
//! - [`LIVENESS`]: SERVING from the moment the host serves until the process ends, whatever
//!   the database does: restarting a process because its database is away mends nothing.
//!   Kubernetes' liveness and startup probes ask this.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::shutdown::ShutdownSignal;

/// The health "service" name that says only that the process is alive and serving.
pub const LIVENESS: &str = "liveness";

/// How often the database is asked, and how long it has to answer.
const CHECK_EVERY: Duration = Duration::from_secs(2);
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The readiness of one host: the services it reports for and what it knows.
#[derive(Clone)]
pub(super) struct Readiness {
    reporter: HealthReporter,
    services: Arc<[&'static str]>,
    name: &'static str,
    database_up: Arc<AtomicBool>,
    leaving: Arc<AtomicBool>,
}

impl Readiness {
    pub(super) fn new(
        reporter: HealthReporter,
        services: &[&'static str],
        name: &'static str,
    ) -> Self {
        Self {
            reporter,
            services: services.into(),
            name,
            database_up: Arc::new(AtomicBool::new(true)),
            leaving: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Reports the current state under every name.
    async fn report(&self) {
        let ready = self.database_up.load(Ordering::SeqCst) && !self.leaving.load(Ordering::SeqCst);
        let status = if ready {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for service in self.services.iter().copied().chain([""]) {
            self.reporter.set_service_status(service, status).await;
        }
    }

    /// Starts serving: alive, and ready as far as is known.
    pub(super) async fn start(&self) {
        self.reporter
            .set_service_status(LIVENESS, ServingStatus::Serving)
            .await;
        self.report().await;
    }

    /// Not ready any more, for good: shutdown was announced.
    pub(super) async fn leave(&self) {
        self.leaving.store(true, Ordering::SeqCst);
        self.report().await;
    }

    /// Asks `db` every few seconds until `shutdown`, and says NOT_SERVING while it does not
    /// answer, SERVING again once it does.
    pub(super) async fn watch(self, db: DatabaseConnection, shutdown: ShutdownSignal) {
        let stop = shutdown.wait();
        tokio::pin!(stop);
        loop {
            let up = matches!(
                tokio::time::timeout(CHECK_TIMEOUT, db.ping()).await,
                Ok(Ok(()))
            );
            if up != self.database_up.swap(up, Ordering::SeqCst) {
                if up {
                    tracing::info!(service = self.name, "database answers again: ready");
                } else {
                    tracing::warn!(
                        service = self.name,
                        "database does not answer: health says NOT_SERVING until it does"
                    );
                }
                self.report().await;
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(CHECK_EVERY) => {}
            }
        }
    }
}
