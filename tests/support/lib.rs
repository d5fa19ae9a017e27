//! What every end-to-end test needs: the three services started in-process on port 0 over a
//! fresh database (a temporary SQLite directory, or new PostgreSQL databases with random names
//! that are dropped afterwards), real gRPC clients, and a restart on the same data.
//!
//! PostgreSQL runs when `DOCKET_TEST_DATABASE_URL` names a server (any database on it; the tests
//! create and drop their own). Logs stay silent unless `TEST_LOG` is set.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: failing loudly is its job

mod case_fixtures;
mod database;
mod delivery;
mod fixtures;
mod flows;
mod front;
mod projections;
mod proxy;
mod reworded;
pub mod tsa;

use std::net::SocketAddr;
use std::time::Duration;

use docket_case_management::CaseManagement;
use docket_intake::Intake;
use docket_platform::auth::{Role, TokenIssuer};
use docket_platform::grpc::HostOptions;
use docket_platform::shutdown::Shutdown;
use docket_platform::{ServiceKind, Settings};
use docket_proto::docket::audit::v1::audit_service_client::AuditServiceClient;
use docket_proto::docket::cases::v1::case_service_client::CaseServiceClient;
use docket_proto::docket::events::v1::event_service_client::EventServiceClient;
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use docket_proto::docket::reporting::v1::reporting_service_client::ReportingServiceClient;
use docket_reporting::Reporting;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use case_fixtures::{case_message, snapshot};
pub use database::{Backend, POSTGRES_VARIABLE, TestDatabases};
pub use delivery::{deliver, held_by_intake, triaged};
pub use fixtures::{allegation, field_violations, submit_request};
pub use flows::{accept, accept_new, cases_of, submit};
pub use front::ServiceFront;
pub use projections::{caught_up_together, cursors, statistics_without_time};
pub use proxy::TcpProxy;
pub use reworded::{Report, reworded_reports};

/// The three services running over one set of test databases.
#[derive(Debug)]
pub struct TestApp {
    pub settings: Settings,
    pub intake_addr: SocketAddr,
    pub case_management_addr: SocketAddr,
    pub reporting_addr: SocketAddr,
    /// Where the services asked for one (`health_listen`) serve health alone, in plaintext.
    pub health_addrs: Vec<(ServiceKind, SocketAddr)>,
    /// The leases the first intake and reporting instances compete for, with their holder ids.
    pub lease_holders: Vec<(String, String)>,
    intake: Option<Running>,
    /// Where the other services reach intake: the first instance and any replica.
    intake_front: ServiceFront,
    case_management: Option<Running>,
    reporting: Option<Running>,
    databases: TestDatabases,
}

impl TestApp {
    /// Starts the services over fresh databases of `backend`; `None` when that backend is not
    /// configured for this run.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        let databases = TestDatabases::create(backend).await?;
        Some(Self::start(databases, |_| {}).await)
    }

    /// Like [`TestApp::spawn`], with settings changed by `configure` first.
    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Settings),
    ) -> Option<Self> {
        let databases = TestDatabases::create(backend).await?;
        Some(Self::start(databases, configure).await)
    }

    async fn start(databases: TestDatabases, configure: impl FnOnce(&mut Settings)) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = docket_platform::telemetry::init(
                "info",
                docket_platform::settings::LogFormat::Text,
                None,
                "docket",
            );
        }
        let mut settings = Settings::defaults().expect("the built-in settings load");
        settings.data_dir = databases.data_dir().to_owned();
        for kind in ServiceKind::ALL {
            settings.set_listen(kind, "127.0.0.1:0".parse().expect("a socket address"));
            settings.set_database_url(kind, databases.url(kind));
        }
        configure(&mut settings);
        Self::launch(databases, settings).await
    }

    async fn launch(databases: TestDatabases, settings: Settings) -> Self {
        // Free ports are chosen before any service starts, so that each knows where the others
        // listen; with many tests starting at once another may take a port in between, so a
        // start that cannot bind is tried again on new ports.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::try_launch(settings.clone()).await {
                Ok((settings, started)) => return started.into_app(settings, databases),
                Err(error) if attempt < 5 => eprintln!("starting the services again: {error:#}"),
                Err(error) => panic!("the services do not start: {error:#}"),
            }
        }
    }

    async fn try_launch(mut settings: Settings) -> anyhow::Result<(Settings, Started)> {
        for kind in ServiceKind::ALL {
            settings.set_listen(kind, "127.0.0.1:0".parse()?);
        }
        settings.intake.url = None;
        settings.case_management.url = None;
        settings.reporting.url = None;
        settings.settle_ports()?;
        // The others reach intake through one front, as behind a Kubernetes Service, so that
        // another instance (`start_replica`) answers them when the first dies.
        let intake_front = ServiceFront::start(settings.listen(ServiceKind::Intake)).await?;
        let direct = settings.listen(ServiceKind::Intake).to_string();
        settings.intake.url = Some(
            settings
                .url(ServiceKind::Intake)
                .replace(&direct, &intake_front.addr().to_string()),
        );
        let case_management = CaseManagement::start(&settings, options(&settings)).await?;
        let reporting = Reporting::start(&settings, options(&settings)).await?;
        let intake = Intake::start(&settings, options(&settings)).await?;
        Ok((
            settings,
            Started {
                intake,
                intake_front,
                case_management,
                reporting,
            },
        ))
    }

    /// Stops case management alone; intake keeps its deliveries until it is back.
    pub async fn stop_case_management(&mut self) {
        if let Some(running) = self.case_management.take() {
            running.stop().await;
        }
    }

    /// Starts case management again, on the address and database it had.
    pub async fn start_case_management(&mut self) {
        self.start_case_management_with(|_| {}).await;
    }

    /// Starts case management again, on the address and database it had, with its settings
    /// changed by `configure` first (stop it before).
    pub async fn start_case_management_with(&mut self, configure: impl FnOnce(&mut Settings)) {
        let mut settings = self.settings.clone();
        settings.case_management.listen = self.case_management_addr;
        configure(&mut settings);
        let case_management = CaseManagement::start(&settings, options(&settings))
            .await
            .expect("case management starts again");
        self.case_management = Some(Running::spawn(|signal| case_management.serve(signal)));
    }

    /// Starts one more instance of intake or reporting (`kind`) on the same databases, as a
    /// second replica would run, on an address of its own.
    pub async fn start_replica(&self, kind: ServiceKind) -> Replica {
        let mut settings = self.settings.clone();
        settings.set_listen(kind, "127.0.0.1:0".parse().expect("a socket address"));
        let options = options(&settings);
        let (addr, lease_holders, running) = match kind {
            ServiceKind::Intake => {
                let intake = Intake::start(&settings, options)
                    .await
                    .expect("a replica starts");
                let holders = intake.lease_holders();
                self.intake_front.add(intake.local_addr());
                (
                    intake.local_addr(),
                    holders,
                    Running::spawn(|s| intake.serve(s)),
                )
            }
            ServiceKind::Reporting => {
                let reporting = Reporting::start(&settings, options)
                    .await
                    .expect("a replica starts");
                let holders = reporting.lease_holders();
                (
                    reporting.local_addr(),
                    holders,
                    Running::spawn(|s| reporting.serve(s)),
                )
            }
            ServiceKind::CaseManagement => panic!("case management takes no lease"),
        };
        Replica {
            addr,
            lease_holders,
            database_url: settings.database_url(kind),
            running,
        }
    }

    /// Stops the first intake instance (the one `intake()` clients reach) and waits for it.
    pub async fn stop_intake(&mut self) {
        if let Some(running) = self.intake.take() {
            running.stop().await;
        }
    }

    /// Kills the first intake instance as a crash would: nothing is finished or released.
    pub async fn kill_intake(&mut self) {
        if let Some(running) = self.intake.take() {
            running.kill().await;
        }
    }

    /// Starts the first intake instance again (stop or kill it before), on the address and
    /// database it had, as a replica restarted in place would; returns its lease holders.
    pub async fn start_intake(&mut self) -> Vec<(String, String)> {
        let mut settings = self.settings.clone();
        settings.intake.listen = self.intake_addr;
        let intake = Intake::start(&settings, options(&settings))
            .await
            .expect("intake starts again");
        let holders = intake.lease_holders();
        self.intake = Some(Running::spawn(|signal| intake.serve(signal)));
        holders
    }

    /// Kills the first reporting instance as a crash would: nothing is finished or released.
    pub async fn kill_reporting(&mut self) {
        if let Some(running) = self.reporting.take() {
            running.kill().await;
        }
    }

    /// Stops the first reporting instance and waits for it.
    pub async fn stop_reporting(&mut self) {
        if let Some(running) = self.reporting.take() {
            running.stop().await;
        }
    }

    /// Starts reporting again, on the address and database it had.
    pub async fn start_reporting(&mut self) {
        self.start_reporting_with(|_| {}).await;
    }

    /// Starts reporting again, on the address and database it had, with its settings changed
    /// by `configure` first (stop it before).
    pub async fn start_reporting_with(&mut self, configure: impl FnOnce(&mut Settings)) {
        let mut settings = self.settings.clone();
        settings.reporting.listen = self.reporting_addr;
        configure(&mut settings);
        let reporting = Reporting::start(&settings, options(&settings))
            .await
            .expect("reporting starts again");
        self.reporting = Some(Running::spawn(|signal| reporting.serve(signal)));
    }

    /// Starts a second reporting on a new empty database, following the same streams: its
    /// projections are built from scratch.
    pub async fn start_another_reporting(&mut self, name: &str) -> Replica {
        let mut settings = self.settings.clone();
        settings.set_listen(ServiceKind::Reporting, "127.0.0.1:0".parse().unwrap());
        settings.set_database_url(ServiceKind::Reporting, self.databases.another(name).await);
        let reporting = Reporting::start(&settings, options(&settings))
            .await
            .expect("another reporting starts");
        Replica {
            addr: reporting.local_addr(),
            lease_holders: reporting.lease_holders(),
            database_url: settings.database_url(ServiceKind::Reporting),
            running: Running::spawn(|signal| reporting.serve(signal)),
        }
    }

    /// A client of the reporting at `addr` acting in `role`.
    pub async fn reporting_at(&self, addr: SocketAddr, role: Role) -> ReportingClient {
        let bearer = Bearer::token(&self.token(role, role.as_str()));
        ReportingServiceClient::with_interceptor(channel(addr).await, bearer)
    }

    /// A development token for `subject` in `role`, as `docket token` mints them.
    pub fn token(&self, role: Role, subject: &str) -> String {
        TokenIssuer::development(&self.settings)
            .expect("development tokens can be minted")
            .mint(subject, role, Duration::from_secs(600))
            .expect("a token")
    }

    /// A client of intake acting as the intake officer `officer.aliyev`.
    pub async fn intake(&self) -> IntakeClient {
        self.intake_as(Role::IntakeOfficer).await
    }

    /// A client of intake acting in `role` (its subject is the role's name).
    pub async fn intake_as(&self, role: Role) -> IntakeClient {
        let subject = if role == Role::IntakeOfficer {
            "officer.aliyev"
        } else {
            role.as_str()
        };
        self.intake_with(Bearer::token(&self.token(role, subject)))
            .await
    }

    /// A client of intake that sends `bearer`.
    pub async fn intake_with(&self, bearer: Bearer) -> IntakeClient {
        IntakeServiceClient::with_interceptor(channel(self.intake_addr).await, bearer)
    }

    /// Evidence of `content` stored in intake for a new allegation; returns the evidence's id.
    pub async fn stored_evidence(&self, content: &[u8]) -> String {
        use docket_proto::docket::intake::v1 as pb;
        use docket_proto::docket::intake::v1::upload_evidence_request::Payload;
        let mut intake = self.intake().await;
        let allegation_id = intake
            .submit_allegation(submit_request(allegation()))
            .await
            .expect("a submission")
            .into_inner()
            .allegation
            .expect("an allegation")
            .id;
        let metadata = pb::EvidenceMetadata {
            allegation_id,
            file_name: "video.mp4".into(),
            collected_time: Some(prost_types::Timestamp {
                seconds: 1_603_000_000,
                nanos: 0,
            }),
            collected_by: "analyst.petrosyan".into(),
            collection_method: pb::CollectionMethod::PlatformDownload.into(),
            ..Default::default()
        };
        let messages = [
            pb::UploadEvidenceRequest {
                payload: Some(Payload::Metadata(metadata)),
            },
            pb::UploadEvidenceRequest {
                payload: Some(Payload::Chunk(content.to_vec().into())),
            },
        ];
        intake
            .upload_evidence(tokio_stream::iter(messages))
            .await
            .expect("an upload")
            .into_inner()
            .evidence
            .expect("evidence")
            .id
    }

    /// A client of reporting acting in `role`.
    pub async fn reporting_as(&self, role: Role) -> ReportingClient {
        self.reporting_at(self.reporting_addr, role).await
    }

    /// A client of the event stream of the service at `addr`, acting in `role`.
    pub async fn events_as(&self, addr: SocketAddr, role: Role) -> EventClient {
        let bearer = Bearer::token(&self.token(role, role.as_str()));
        EventServiceClient::with_interceptor(channel(addr).await, bearer)
    }

    /// A client of case management acting as the investigator `investigator.mammadov`.
    pub async fn cases(&self) -> CaseClient {
        self.cases_as(Role::Investigator).await
    }

    /// A client of case management acting in `role` (its subject is the role's name, except
    /// for the investigator).
    pub async fn cases_as(&self, role: Role) -> CaseClient {
        let subject = if role == Role::Investigator {
            "investigator.mammadov"
        } else {
            role.as_str()
        };
        let bearer = Bearer::token(&self.token(role, subject));
        CaseServiceClient::with_interceptor(channel(self.case_management_addr).await, bearer)
    }

    /// A client of the audit log of the service at `addr`, acting in `role`.
    pub async fn audit_as(&self, addr: SocketAddr, role: Role) -> AuditClient {
        let bearer = Bearer::token(&self.token(role, role.as_str()));
        AuditServiceClient::with_interceptor(channel(addr).await, bearer)
    }

    /// Stops every service and waits until each has stopped cleanly.
    pub async fn stop(mut self) -> TestDatabases {
        // Reporting first: its projectors follow the others' event streams, which would hold
        // their drain open until the grace period ends.
        if let Some(running) = self.reporting.take() {
            running.stop().await;
        }
        if let Some(running) = self.intake.take() {
            running.stop().await;
        }
        if let Some(running) = self.case_management.take() {
            running.stop().await;
        }
        self.databases
    }

    /// Starts the services with `settings` on `databases` left by a stopped app, whose data may
    /// have changed in between (restored from a backup, say).
    pub async fn start_on(databases: TestDatabases, settings: Settings) -> Self {
        Self::launch(databases, settings).await
    }

    /// Stops the services and starts them again on the same data.
    pub async fn restart(self) -> Self {
        let settings = self.settings.clone();
        let databases = self.stop().await;
        Self::launch(databases, settings).await
    }
}

/// The three services, started but not yet serving.
struct Started {
    intake: Intake,
    intake_front: ServiceFront,
    case_management: CaseManagement,
    reporting: Reporting,
}

impl Started {
    fn into_app(self, settings: Settings, databases: TestDatabases) -> TestApp {
        let Started {
            intake,
            intake_front,
            case_management,
            reporting,
        } = self;
        let mut lease_holders = intake.lease_holders();
        lease_holders.extend(reporting.lease_holders());
        let health_addrs = [
            (ServiceKind::Intake, intake.health_addr()),
            (ServiceKind::CaseManagement, case_management.health_addr()),
            (ServiceKind::Reporting, reporting.health_addr()),
        ]
        .into_iter()
        .filter_map(|(kind, addr)| Some((kind, addr?)))
        .collect();
        TestApp {
            lease_holders,
            health_addrs,
            intake_addr: intake.local_addr(),
            case_management_addr: case_management.local_addr(),
            reporting_addr: reporting.local_addr(),
            settings,
            intake: Some(Running::spawn(|signal| intake.serve(signal))),
            case_management: Some(Running::spawn(|signal| case_management.serve(signal))),
            reporting: Some(Running::spawn(|signal| reporting.serve(signal))),
            intake_front,
            databases,
        }
    }
}

/// Host options of the tests' services: the settings', with a short grace period.
fn options(settings: &Settings) -> HostOptions {
    HostOptions {
        shutdown_grace: Duration::from_secs(5),
        ..HostOptions::from_settings(settings).expect("the tests' TLS files are readable")
    }
}

/// Another instance of a service on the same databases.
#[derive(Debug)]
pub struct Replica {
    pub addr: SocketAddr,
    /// The leases it competes for, with its holder id in each.
    pub lease_holders: Vec<(String, String)>,
    /// Its database.
    pub database_url: String,
    running: Running,
}

impl Replica {
    /// Stops it and waits until it has stopped cleanly.
    pub async fn stop(self) {
        self.running.stop().await;
    }

    /// Kills it as a crash would: nothing is finished or released.
    pub async fn kill(self) {
        self.running.kill().await;
    }
}

/// One service serving in the background, with its own stop switch.
#[derive(Debug)]
struct Running {
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    fn spawn<F>(serve: impl FnOnce(docket_platform::shutdown::ShutdownSignal) -> F) -> Self
    where
        F: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let (shutdown, signal) = Shutdown::new();
        Self {
            shutdown,
            task: tokio::spawn(serve(signal)),
        }
    }

    async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    async fn stop(self) {
        self.shutdown.trigger();
        self.task
            .await
            .expect("a service task panicked")
            .expect("a service stopped with an error");
    }
}

/// An intake client that sends a bearer token.
pub type IntakeClient = IntakeServiceClient<InterceptedService<Channel, Bearer>>;
/// A reporting client that sends a bearer token.
pub type ReportingClient = ReportingServiceClient<InterceptedService<Channel, Bearer>>;
/// An event stream client that sends a bearer token.
pub type EventClient = EventServiceClient<InterceptedService<Channel, Bearer>>;
/// A case-management client that sends a bearer token.
pub type CaseClient = CaseServiceClient<InterceptedService<Channel, Bearer>>;
/// An audit client that sends a bearer token.
pub type AuditClient = AuditServiceClient<InterceptedService<Channel, Bearer>>;

/// Adds `authorization` to every call (or nothing, for anonymous calls).
#[derive(Debug, Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    pub fn token(token: &str) -> Self {
        Self::header(&format!("Bearer {token}"))
    }

    /// Any `authorization` header value, well-formed or not.
    pub fn header(value: &str) -> Self {
        Self(Some(value.parse().expect("an ASCII header value")))
    }

    pub fn none() -> Self {
        Self(None)
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A connected channel to `addr`.
pub async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("a valid URI")
        .connect()
        .await
        .expect("the service accepts connections")
}

/// Declares a scenario `async fn name(backend: Backend)` as two tests, on SQLite and on
/// PostgreSQL; the PostgreSQL one passes without running when no server is configured.
#[macro_export]
macro_rules! on_every_backend {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    super::$scenario($crate::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    if $crate::Backend::postgres_configured() {
                        super::$scenario($crate::Backend::Postgres).await;
                    } else {
                        eprintln!("DOCKET_TEST_DATABASE_URL is not set: PostgreSQL not tested");
                    }
                }
            }
        )+
    };
}
