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
            record_pool_use(&db, self.name);
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

/// `docket_db_pool_connections{service,state}` (in use, idle) and
/// `docket_db_pool_max_connections{service}` of the pool behind `db`.
fn record_pool_use(db: &DatabaseConnection, service: &'static str) {
    let (size, idle, max) = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        sea_orm::DbBackend::MySql | _ => return,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
    metrics::gauge!("docket_db_pool_connections", "service" => service, "state" => "in_use")
        .set(f64::from(size - idle));
    metrics::gauge!("docket_db_pool_connections", "service" => service, "state" => "idle")
        .set(f64::from(idle));
    metrics::gauge!("docket_db_pool_max_connections", "service" => service).set(f64::from(max));
}
