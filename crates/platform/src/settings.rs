//! One typed settings struct for a whole deployment, loaded once: built-in defaults, then an
//! optional TOML file, then `DOCKET__SECTION__KEY` environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

/// The built-in defaults, as the TOML a deployment would write to override them.
const DEFAULTS: &str = r#"
mode = "development"
data_dir = "./data"
parties = []
shutdown_grace_seconds = 20
shutdown_delay_ms = 0
request_timeout_seconds = 30
stream_idle_timeout_seconds = 60
# Unary calls allowed longer than request_timeout_seconds: publishing a release at 10^6 cases,
# and reproducing one (its projections rebuilt from the event streams).
method_timeouts = [
  { method = "docket.reporting.v1.ReportingService/CreateRelease", timeout_seconds = 600 },
  { method = "docket.reporting.v1.ReportingService/ReproduceRelease", timeout_seconds = 1800 },
]

[log]
filter = "info"
format = "text"

[auth]
issuer = "docket"
audience = "docket"
leeway_seconds = 30

[sealing]
keys = {}

[tls]

[traces]

[metrics]

[leases]
ttl_seconds = 15

[outbox]
max_attempts = 2880
max_refused_attempts = 8

[database]
connect_timeout_ms = 2000
acquire_timeout_ms = 2000

[limits]
max_concurrent_requests_per_connection = 64
max_in_flight_requests = 512
max_in_flight_anonymous_requests = 32
trusted_proxies = []

[intake]
listen = "127.0.0.1:50051"
max_evidence_bytes = 4294967296
upload_session_expiry_seconds = 86400
max_upload_sessions = 32
blob_store_options = {}
ffmpeg = "ffmpeg"
post_upload_workers = 2

[case_management]
listen = "127.0.0.1:50052"

[reporting]
listen = "127.0.0.1:50053"
suppression_threshold = 5
"#;

/// Settings of a whole deployment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `development` lets secrets that are not configured (the token secret, the sealing key,
    /// the receipt key) be generated once and kept under `data_dir`; `production` refuses to
    /// start without them and accepts only tokens signed with the configured public keys.
    pub mode: Mode,
    /// Where SQLite databases and blobs live unless their own settings say otherwise.
    pub data_dir: PathBuf,
    /// The parties to the conflict. When empty, any well-formed party code is accepted.
    pub parties: Vec<String>,
    /// How long in-flight requests may take to finish once the listeners stop accepting (after
    /// `shutdown_delay_ms`).
    pub shutdown_grace_seconds: u64,
    /// How long after SIGTERM or SIGINT health says NOT_SERVING while calls and new connections
    /// are still accepted, so that load balancers stop sending before the listeners close.
    pub shutdown_delay_ms: u64,
    /// How long one unary call may take before it is cancelled; a server stream must have
    /// started within it. Streams of messages are not bounded by it (see the next).
    pub request_timeout_seconds: u64,
    /// How long a stream may go without a message before it is ended: an upload whose client
    /// sends nothing, a download (or any server stream) whose client takes nothing while a
    /// message waits for it. A server stream waiting for something to send (new events, say)
    /// is not idle, and a stream that keeps moving may last as long as it needs.
    pub stream_idle_timeout_seconds: std::num::NonZeroU64,
    /// Unary methods allowed longer than `request_timeout_seconds` (and only those: every
    /// other call keeps the request timeout). Default: `CreateRelease` up to 600 s and
    /// `ReproduceRelease` up to 1 800 s. A method
    /// that no Docket host serves, or a client stream, stops the process at start.
    pub method_timeouts: Vec<MethodTimeout>,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub sealing: SealingSettings,
    pub tls: TlsSettings,
    pub limits: LimitSettings,
    pub metrics: MetricsSettings,
    pub traces: TraceSettings,
    pub leases: LeaseSettings,
    pub outbox: OutboxSettings,
    pub database: DatabaseSettings,
    pub intake: IntakeSettings,
    pub case_management: CaseManagementSettings,
    pub reporting: ReportingSettings,
}

/// One method's own time limit, in place of the request timeout.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodTimeout {
    /// `package.Service/Method`, e.g. `docket.reporting.v1.ReportingService/CreateRelease`
    /// (a leading `/` is allowed).
    pub method: String,
    /// How long a call of it may run before it is cancelled.
    pub timeout_seconds: u64,
}

/// How strictly secrets are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Development,
    Production,
}

/// Who may call: bearer tokens (JWT) and how they are checked.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must carry.
    pub audience: String,
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    pub leeway_seconds: u64,
    /// The HS256 secret of development tokens (at least 32 characters). Development only;
    /// default: a random secret kept in `data_dir/auth-hs256.secret`, which `docket token` uses.
    pub hs256_secret: Option<String>,
    /// A PEM file of public keys (Ed25519 or RSA) whose EdDSA or RS256 signatures are accepted.
    /// Required in production.
    pub public_keys_file: Option<PathBuf>,
    /// A file holding this service's own `service` token, for calls to other services (read on
    /// every call, so it can be rotated in place). Required in production by services that call
    /// others; in development a short-lived token is minted instead.
    pub service_token_file: Option<PathBuf>,
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_seconds", &self.leeway_seconds)
            .field("hs256_secret", &self.hs256_secret.as_ref().map(|_| "…"))
            .field("public_keys_file", &self.public_keys_file)
            .field("service_token_file", &self.service_token_file)
            .finish()
    }
}

/// The keys that seal confidential fields at rest.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealingSettings {
    /// The id of the key new values are sealed with; it must be one of `keys`.
    pub current_key_id: Option<String>,
    /// Every key by id (lower-case letters, digits, `-`), each 64 hex characters (256 bits). Old
    /// keys stay listed so that what they sealed can still be opened. In development, when none
    /// is configured, a key `dev` is generated and kept in `data_dir/sealing-dev.key`.
    pub keys: std::collections::BTreeMap<String, String>,
    /// Milliseconds each service waits between two batches of values it re-seals after a
    /// rotation (0: none). A pause leaves the database to requests during a long rotation.
    #[serde(default)]
    pub reseal_pause_ms: u64,
}

impl std::fmt::Debug for SealingSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingSettings")
            .field("current_key_id", &self.current_key_id)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .field("reseal_pause_ms", &self.reseal_pause_ms)
            .finish()
    }
}

/// TLS for every listener, and for the calls between the services. Files are PEM.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// The certificate chain this process serves, leaf first. Unset: plaintext.
    pub cert_file: Option<PathBuf>,
    /// The private key of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// When set, every client must present a certificate signed by this CA (mutual TLS); the
    /// services then present `cert_file` to each other as their client certificate.
    pub client_ca_file: Option<PathBuf>,
    /// The CA trusted when calling the other services over `https://`.
    pub ca_file: Option<PathBuf>,
}

/// OpenTelemetry traces.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSettings {
    /// The OTLP/gRPC endpoint spans are exported to, for example `http://otel-collector:4317`.
    /// Unset: no traces are exported and no trace context is propagated.
    pub otlp_endpoint: Option<String>,
}

/// Prometheus metrics.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Where `/metrics` is served, for example `0.0.0.0:9100`. Unset: no metrics listener.
    pub listen: Option<SocketAddr>,
}

/// How long a call waits for its database before it is answered `UNAVAILABLE`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Milliseconds to open one connection to a database server. At least 1.
    pub connect_timeout_ms: std::num::NonZeroU64,
    /// Milliseconds a call waits for a pooled connection, opening a new one included, before
    /// it gives up with `UNAVAILABLE`. At least 1.
    pub acquire_timeout_ms: std::num::NonZeroU64,
}

impl DatabaseSettings {
    pub fn connect_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.connect_timeout_ms.get())
    }

    pub fn acquire_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.acquire_timeout_ms.get())
    }
}

/// Database leases that keep work which must not run twice (intake's outbox dispatcher,
/// reporting's projectors) to one replica at a time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseSettings {
    /// How long a lease lasts unless renewed; it is renewed every third of that. The longer, the
    /// later another replica takes over from one that died; the shorter, the more often the
    /// database is written. At least 1.
    pub ttl_seconds: std::num::NonZeroU64,
}

impl LeaseSettings {
    pub fn ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.ttl_seconds.get())
    }
}

/// When intake's outbox stops trying a delivery and keeps it as a dead letter, for a supervisor
/// to retry or drop (`ListDeadLetters`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    /// Attempts of any kind before a delivery is given up; retries back off up to 30 s apart, so
    /// 2 880 are about a day of the receiver being unreachable. At least 1.
    pub max_attempts: std::num::NonZeroU32,
    /// Attempts once the receiver refuses the request as it is (FAILED_PRECONDITION,
    /// INVALID_ARGUMENT, NOT_FOUND…): a few, since what it lacks may still be on its way. At
    /// least 1.
    pub max_refused_attempts: std::num::NonZeroU32,
}

impl OutboxSettings {
    pub fn dead_letter_policy(&self) -> crate::outbox::DeadLetterPolicy {
        crate::outbox::DeadLetterPolicy {
            max_attempts: self.max_attempts.get(),
            max_refused_attempts: self.max_refused_attempts.get(),
        }
    }
}

/// Limits that keep one client from starving the others.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Calls one connection may have in flight at once; more wait. At least 1.
    pub max_concurrent_requests_per_connection: std::num::NonZeroUsize,
    /// Calls a service handles at once across all connections; more are refused at once with
    /// RESOURCE_EXHAUSTED (load shedding) rather than queued. At least 1.
    pub max_in_flight_requests: std::num::NonZeroUsize,
    /// Calls without a caller (public methods such as `CheckAllegationStatus`, reflection) a
    /// service handles at once; more are refused at once with RESOURCE_EXHAUSTED. They are
    /// counted apart from `max_in_flight_requests`, so that anonymous callers can never take
    /// the capacity staff need. At least 1.
    pub max_in_flight_anonymous_requests: std::num::NonZeroUsize,
    /// A header in which a reverse proxy in front of the services names the client it
    /// forwards, such as `x-forwarded-for` (its last entry is taken: the one the proxy
    /// appended). Honoured only on connections from `trusted_proxies`. Unset (the default): the
    /// client is the connection's peer.
    pub client_address_header: Option<String>,
    /// The proxies whose `client_address_header` is believed: addresses or CIDR ranges, such as
    /// `["10.0.0.0/8"]`. Empty (the default): none.
    pub trusted_proxies: Vec<crate::grpc::AddressRange>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// A `tracing` filter such as `info` or `docket_intake=debug,info`. `RUST_LOG` wins when set.
    pub filter: String,
    /// `text` (human-readable, the default) or `json` (one object per line, for collectors).
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings of one service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    /// The address the service binds.
    pub listen: SocketAddr,
    /// A plaintext listener that serves `grpc.health.v1.Health` alone, for probes that cannot
    /// speak TLS (the kubelet's), for example `0.0.0.0:50061`. Unset: no such listener.
    pub health_listen: Option<SocketAddr>,
    /// How the other services reach it. Default: `http://` (`https://` with TLS) and `listen`.
    pub url: Option<String>,
    /// Its database. Default: a SQLite file under `data_dir`.
    pub database_url: Option<String>,
}

/// Settings of intake: those of every service, and the receipt key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeSettings {
    /// The address the service binds.
    pub listen: SocketAddr,
    /// A plaintext listener that serves `grpc.health.v1.Health` alone, for probes that cannot
    /// speak TLS (the kubelet's), for example `0.0.0.0:50061`. Unset: no such listener.
    pub health_listen: Option<SocketAddr>,
    /// How the other services reach it. Default: `http://` (`https://` with TLS) and `listen`.
    pub url: Option<String>,
    /// Its database. Default: a SQLite file under `data_dir`.
    pub database_url: Option<String>,
    /// The key anonymous sources' receipts are derived with, at least 32 characters; replicas
    /// must share it. Default: a random key kept in `data_dir/intake-receipt.key`.
    pub receipt_key: Option<String>,
    /// Where evidence files are kept, by their SHA-256. Default: `data_dir/blobs`.
    pub blob_dir: Option<PathBuf>,
    /// S3-compatible storage for evidence files instead of `blob_dir`: `s3://bucket/prefix`,
    /// with credentials and endpoint from the `AWS_*` environment variables.
    pub blob_store_url: Option<String>,
    /// Options of the S3 store, by object_store's names (`aws_endpoint`, `aws_region`,
    /// `aws_access_key_id`, `aws_secret_access_key`, `aws_allow_http`, …); `AWS_*` environment
    /// variables fill in what is not given here.
    pub blob_store_options: std::collections::BTreeMap<String, String>,
    /// The largest evidence file accepted, in bytes. Default 4 GiB.
    pub max_evidence_bytes: u64,
    /// How long a resumable upload session (`StartUpload`) is kept without a write before it
    /// is dropped with its bytes, in seconds. Default 86400 (a day).
    pub upload_session_expiry_seconds: u64,
    /// How many resumable upload sessions may be open at once; each holds a partial file
    /// under `data_dir/uploads`. Default 32.
    pub max_upload_sessions: usize,
    /// The `ffmpeg` program that samples video frames for perceptual hashing: a name looked up
    /// on `PATH` or a path. Default `ffmpeg`. Without it videos are not hashed (images still
    /// are), and their jobs say why.
    pub ffmpeg: String,
    /// How many post-upload jobs (perceptual hashing) one replica runs at a time. Default 2.
    pub post_upload_workers: usize,
    /// Where this replica keeps its full-text index of allegations (`SearchAllegations`,
    /// `ListSimilarAllegations`). Each replica builds its own from intake's event stream, and
    /// rebuilds it when the directory is lost. Default: `data_dir/search/allegations`.
    pub search_dir: Option<PathBuf>,
    /// The RFC 3161 time-stamping authority that proves when each evidence file was held, and
    /// timestamps the audit chain's head (`[intake.timestamping]`). Unset `url`: no timestamps
    /// are requested.
    #[serde(default)]
    pub timestamping: TimestampingSettings,
    /// How C2PA Content Credentials embedded in evidence files are validated
    /// (`[intake.content_credentials]`). Every upload is read; without trust anchors a good
    /// manifest reads VALID, never TRUSTED.
    #[serde(default)]
    pub content_credentials: ContentCredentialsSettings,
}

/// C2PA Content Credentials: which signers are trusted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContentCredentialsSettings {
    /// PEM file of the certificate authorities whose signers are trusted (for example the
    /// C2PA trust list, or the office's own CA for its field devices). A manifest signed by a
    /// certificate that chains to one reads TRUSTED; unset, a good manifest reads VALID.
    pub trust_anchors_file: Option<PathBuf>,
}

/// An RFC 3161 time-stamping authority (TSA). Each service has its own section
/// (`intake.timestamping`, `case_management.timestamping`, `reporting.timestamping`), as each
/// has its own database and may run apart; they may name the same authority.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimestampingSettings {
    /// Where time-stamp queries are POSTed (`application/timestamp-query`), for example
    /// `https://freetsa.org/tsr`. Unset: no timestamps are requested and nothing else changes.
    pub url: Option<String>,
    /// PEM file of the certificate authorities a TSA's certificate must chain to. Required with
    /// `url`: a token is stored only once it verifies against them.
    pub ca_file: Option<PathBuf>,
    /// The TSA policy to ask for (a dotted OID); tokens under another policy are refused.
    /// Unset: the authority's default policy, whatever it is.
    pub policy: Option<String>,
    /// How long one request to the authority may take, in seconds. Default 30.
    pub request_timeout_seconds: u64,
    /// How often the service's audit chain head is timestamped, in seconds, when it moved since
    /// the last stamp (and at each start). Default 3600; 0: never.
    pub audit_head_interval_seconds: u64,
    /// Intake only: how often timestamp requests its job queue gave up after their last retry
    /// (a long outage of the authority) are made due again while running, in seconds; each
    /// start does it too. Default 3600; 0: only at starts. Case management and reporting give
    /// nothing up: they ask again with a backoff until the authority answers.
    pub retry_given_up_interval_seconds: u64,
}

impl Default for TimestampingSettings {
    fn default() -> Self {
        Self {
            url: None,
            ca_file: None,
            policy: None,
            request_timeout_seconds: 30,
            audit_head_interval_seconds: 3600,
            retry_given_up_interval_seconds: 3600,
        }
    }
}

impl std::fmt::Debug for IntakeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntakeSettings")
            .field("listen", &self.listen)
            .field("health_listen", &self.health_listen)
            .field("url", &self.url)
            .field("database_url", &self.database_url)
            .field("receipt_key", &self.receipt_key.as_ref().map(|_| "…"))
            .field("blob_dir", &self.blob_dir)
            .field("blob_store_url", &self.blob_store_url)
            .field(
                "blob_store_options",
                &self.blob_store_options.keys().collect::<Vec<_>>(),
            )
            .field("max_evidence_bytes", &self.max_evidence_bytes)
            .field(
                "upload_session_expiry_seconds",
                &self.upload_session_expiry_seconds,
            )
            .field("max_upload_sessions", &self.max_upload_sessions)
            .field("ffmpeg", &self.ffmpeg)
            .field("post_upload_workers", &self.post_upload_workers)
            .field("timestamping", &self.timestamping)
            .field("content_credentials", &self.content_credentials)
            .field("search_dir", &self.search_dir)
            .finish()
    }
}

/// Settings of case management: those of every service, and the crime-type taxonomy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseManagementSettings {
    /// The address the service binds.
    pub listen: SocketAddr,
    /// A plaintext listener that serves `grpc.health.v1.Health` alone, for probes that cannot
    /// speak TLS (the kubelet's), for example `0.0.0.0:50061`. Unset: no such listener.
    pub health_listen: Option<SocketAddr>,
    /// How the other services reach it. Default: `http://` (`https://` with TLS) and `listen`.
    pub url: Option<String>,
    /// Its database. Default: a SQLite file under `data_dir`.
    pub database_url: Option<String>,
    /// A TOML file of crime types to qualify cases with, replacing the built-in taxonomy (the
    /// war crimes of Article 8(2)(a) and (b) of the Rome Statute). Read once at start-up.
    pub taxonomy_file: Option<PathBuf>,
    /// Where this replica keeps its full-text index of cases (`SearchCases`). Each replica
    /// builds its own from case management's event stream, and rebuilds it when the directory
    /// is lost. Default: `data_dir/search/cases`.
    pub search_dir: Option<PathBuf>,
    /// The RFC 3161 time-stamping authority that timestamps the audit chain's head
    /// (`[case_management.timestamping]`). Unset `url`: no timestamps are requested.
    #[serde(default)]
    pub timestamping: TimestampingSettings,
}

/// Settings of reporting: those of every service, and the publication threshold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportingSettings {
    /// The address the service binds.
    pub listen: SocketAddr,
    /// A plaintext listener that serves `grpc.health.v1.Health` alone, for probes that cannot
    /// speak TLS (the kubelet's), for example `0.0.0.0:50061`. Unset: no such listener.
    pub health_listen: Option<SocketAddr>,
    /// How the other services reach it. Default: `http://` (`https://` with TLS) and `listen`.
    pub url: Option<String>,
    /// Its database. Default: a SQLite file under `data_dir`.
    pub database_url: Option<String>,
    /// For the public audience, counts from 1 up to this are withheld. Default 5.
    pub suppression_threshold: i64,
    /// What a release publishes, and how it is protected and signed.
    #[serde(default)]
    pub release: ReleaseSettings,
    /// The RFC 3161 time-stamping authority that timestamps the audit chain's head
    /// (`[reporting.timestamping]`). Unset `url`: no timestamps are requested.
    #[serde(default)]
    pub timestamping: TimestampingSettings,
}

/// Releases: the fixed tables the public reads, the gazetteer that turns places into regions,
/// and the office's signing key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSettings {
    /// The catalogue of tables every release publishes, in order. Default: totals; victims by
    /// party, by harm, by the victims' side × harm and × status, by age band × sex, by month,
    /// week and region; cases by month, week, crime type × party and region; charges and
    /// persons charged, in absentia or not.
    #[serde(default = "default_release_tables")]
    pub tables: Vec<ReleaseTableSettings>,
    /// A CSV file `place,region` (a header line first): the administrative region of each place
    /// name; then, optionally, a header line `region,area` and one polygon a line,
    /// `region,lat lon; lat lon; lat lon; …` (degrees, at least three vertices), which places an
    /// incident whose name is not listed by its coordinates (the first area holding it wins).
    /// Unset: a small built-in gazetteer for development and tests.
    #[serde(default)]
    pub gazetteer_file: Option<PathBuf>,
    /// The narrowest range of values a withheld cell may be known to lie in, given everything
    /// published. Unset: the suppression threshold.
    #[serde(default)]
    pub min_range: Option<i64>,
    /// The office's Ed25519 signing key: 64 hex characters (the 32-byte seed). Required in
    /// production; in development one is generated and kept in `data_dir/release-signing-dev.key`.
    #[serde(default)]
    pub signing_key: Option<String>,
    /// What the published report says of the office, the period, its scope and its method.
    #[serde(default)]
    pub publication: PublicationSettings,
}

impl Default for ReleaseSettings {
    fn default() -> Self {
        Self {
            tables: default_release_tables(),
            gazetteer_file: None,
            min_range: None,
            signing_key: None,
            publication: PublicationSettings::default(),
        }
    }
}

/// The words of the published report, carried into each release so that the signed file says
/// what its figures are. How small counts are withheld and what is counted are stated from the
/// release itself and the counting rule, not from here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublicationSettings {
    /// Who publishes, such as `Office of the Prosecutor General`.
    pub office_name: String,
    /// The reporting period as the report states it, such as `27 September 2020 to 31 October
    /// 2020`. Empty: the months of the incidents the release counts.
    pub period: String,
    /// What the figures cover.
    pub scope: String,
    /// How they were gathered and what they are (and are not).
    pub method: String,
    /// Each party's name by its code, such as `AM = "Armenia"`; a party not named here reads
    /// as its code. Codes are matched without regard to case (environment keys are lower-cased).
    pub party_names: std::collections::BTreeMap<String, String>,
}

impl Default for PublicationSettings {
    fn default() -> Self {
        Self {
            office_name: "The Office of the Prosecutor".to_owned(),
            period: String::new(),
            scope: "Allegations of war crimes and other serious violations of international \
                    humanitarian law received by the office, and the cases opened from them: \
                    the cases, the people harmed as recorded in the cases' casualty figures, \
                    the charges filed and the persons charged."
                .to_owned(),
            method: "The figures are allegations under investigation, not findings of a court: \
                     a case is counted from the moment it is opened, and a person harmed as \
                     soon as a case records them. Allegations reach the office from victims, \
                     witnesses, organisations and its own investigators; each is reviewed \
                     before a case is opened, and one found to repeat another adds no one. \
                     Places are published only as administrative regions."
                .to_owned(),
            party_names: std::collections::BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for ReleaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReleaseSettings")
            .field("tables", &self.tables)
            .field("gazetteer_file", &self.gazetteer_file)
            .field("min_range", &self.min_range)
            .field("publication", &self.publication)
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// One table of the release catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseTableSettings {
    /// Its name, such as `victims_by_party`.
    pub name: String,
    /// `cases`, `victims`, `charges` or `accused`.
    pub measure: String,
    /// At most two of `party`, `crime_type`, `harm`, `victim_status`, `age_group`, `sex`,
    /// `victim_party`, `age_band`, `month`, `week`, `region`, `in_absentia`; none for a total.
    #[serde(default)]
    pub by: Vec<String>,
}

fn default_release_tables() -> Vec<ReleaseTableSettings> {
    let table = |name: &str, measure: &str, by: &[&str]| ReleaseTableSettings {
        name: name.to_owned(),
        measure: measure.to_owned(),
        by: by.iter().map(|d| (*d).to_owned()).collect(),
    };
    vec![
        table("cases", "cases", &[]),
        table("victims", "victims", &[]),
        table("charges", "charges", &[]),
        table("accused", "accused", &[]),
        table("victims_by_party", "victims", &["party"]),
        table("victims_by_harm", "victims", &["harm"]),
        table(
            "victims_by_side_and_harm",
            "victims",
            &["victim_party", "harm"],
        ),
        table(
            "victims_by_age_band_and_sex",
            "victims",
            &["age_band", "sex"],
        ),
        table(
            "victims_by_side_and_status",
            "victims",
            &["victim_party", "victim_status"],
        ),
        table("victims_by_month", "victims", &["month"]),
        table("cases_by_month", "cases", &["month"]),
        table("victims_by_week", "victims", &["week"]),
        table("cases_by_week", "cases", &["week"]),
        table("victims_by_region", "victims", &["region"]),
        table(
            "cases_by_crime_type_party",
            "cases",
            &["crime_type", "party"],
        ),
        table("cases_by_region", "cases", &["region"]),
        table("charges_by_in_absentia", "charges", &["in_absentia"]),
        table("accused_by_in_absentia", "accused", &["in_absentia"]),
    ]
}

/// The three services of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    Intake,
    CaseManagement,
    Reporting,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 3] = [
        ServiceKind::Intake,
        ServiceKind::CaseManagement,
        ServiceKind::Reporting,
    ];

    /// The name used on the command line and in logs.
    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Intake => "intake",
            ServiceKind::CaseManagement => "case-management",
            ServiceKind::Reporting => "reporting",
        }
    }

    fn database_file(self) -> &'static str {
        match self {
            ServiceKind::Intake => "intake.db",
            ServiceKind::CaseManagement => "case-management.db",
            ServiceKind::Reporting => "reporting.db",
        }
    }
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings: {0}")]
    Load(#[from] config::ConfigError),
}

impl Settings {
    /// Defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::load_from(file, Environment::default().source(None))
    }

    /// The defaults alone, as tests start from.
    pub fn defaults() -> Result<Self, SettingsError> {
        Ok(Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .build()?
            .try_deserialize()?)
    }

    fn load_from(file: Option<&Path>, environment: Environment) -> Result<Self, SettingsError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(file) = file {
            builder = builder.add_source(File::from(file).format(FileFormat::Toml).required(true));
        }
        let environment = environment
            .prefix("DOCKET")
            .prefix_separator("__")
            .separator("__")
            // Only `parties` and `limits.trusted_proxies` are lists; splitting other values on
            // commas would cut database URLs.
            .list_separator(",")
            .with_list_parse_key("parties")
            .with_list_parse_key("limits.trusted_proxies")
            .try_parsing(true);
        Ok(builder.add_source(environment).build()?.try_deserialize()?)
    }

    /// The address a service binds.
    pub fn listen(&self, kind: ServiceKind) -> SocketAddr {
        match kind {
            ServiceKind::Intake => self.intake.listen,
            ServiceKind::CaseManagement => self.case_management.listen,
            ServiceKind::Reporting => self.reporting.listen,
        }
    }

    /// Where a service serves health alone in plaintext, if anywhere.
    pub fn health_listen(&self, kind: ServiceKind) -> Option<SocketAddr> {
        match kind {
            ServiceKind::Intake => self.intake.health_listen,
            ServiceKind::CaseManagement => self.case_management.health_listen,
            ServiceKind::Reporting => self.reporting.health_listen,
        }
    }

    /// Sets the address a service binds (tests bind port 0).
    pub fn set_listen(&mut self, kind: ServiceKind, listen: SocketAddr) {
        match kind {
            ServiceKind::Intake => self.intake.listen = listen,
            ServiceKind::CaseManagement => self.case_management.listen = listen,
            ServiceKind::Reporting => self.reporting.listen = listen,
        }
    }

    /// Sets the database URL of a service.
    pub fn set_database_url(&mut self, kind: ServiceKind, url: String) {
        match kind {
            ServiceKind::Intake => self.intake.database_url = Some(url),
            ServiceKind::CaseManagement => self.case_management.database_url = Some(url),
            ServiceKind::Reporting => self.reporting.database_url = Some(url),
        }
    }

    /// Gives every service that would bind port 0 a free port now, and points its `url` there
    /// when no `url` is configured, so that the services that call it know where it will be
    /// before any of them starts. (A port so chosen could in theory be taken by another program
    /// before the service binds it; binding then fails loudly.)
    pub fn settle_ports(&mut self) -> std::io::Result<()> {
        for kind in ServiceKind::ALL {
            let listen = self.listen(kind);
            if listen.port() != 0 {
                continue;
            }
            let free = std::net::TcpListener::bind(listen)?.local_addr()?;
            self.set_listen(kind, free);
            if self.configured(kind).0.is_none() {
                let url = Some(format!("{}://{free}", self.scheme()));
                match kind {
                    ServiceKind::Intake => self.intake.url = url,
                    ServiceKind::CaseManagement => self.case_management.url = url,
                    ServiceKind::Reporting => self.reporting.url = url,
                }
            }
        }
        Ok(())
    }

    /// The URL and database URL settings of a service.
    fn configured(&self, kind: ServiceKind) -> (&Option<String>, &Option<String>) {
        match kind {
            ServiceKind::Intake => (&self.intake.url, &self.intake.database_url),
            ServiceKind::CaseManagement => (
                &self.case_management.url,
                &self.case_management.database_url,
            ),
            ServiceKind::Reporting => (&self.reporting.url, &self.reporting.database_url),
        }
    }

    /// The database URL of a service: its own setting, or a SQLite file under `data_dir`.
    pub fn database_url(&self, kind: ServiceKind) -> String {
        match self.configured(kind).1 {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join(kind.database_file()).display()
            ),
        }
    }

    /// How other services reach a service.
    pub fn url(&self, kind: ServiceKind) -> String {
        match self.configured(kind).0 {
            Some(url) => url.clone(),
            None => format!("{}://{}", self.scheme(), self.listen(kind)),
        }
    }

    /// `https` when the services serve TLS, else `http`.
    fn scheme(&self) -> &'static str {
        if self.tls.cert_file.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with_env(vars: &[(&str, &str)]) -> Settings {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::load_from(None, Environment::default().source(Some(vars))).unwrap()
    }

    #[test]
    fn defaults_match_the_design() {
        let settings = with_env(&[]);
        assert_eq!(settings.intake.listen.to_string(), "127.0.0.1:50051");
        assert_eq!(
            settings.case_management.listen.to_string(),
            "127.0.0.1:50052"
        );
        assert_eq!(settings.reporting.listen.to_string(), "127.0.0.1:50053");
        for kind in ServiceKind::ALL {
            assert_eq!(
                settings.health_listen(kind),
                None,
                "no health listener unless asked"
            );
        }
        assert_eq!(settings.data_dir, PathBuf::from("./data"));
        assert_eq!(
            settings.database_url(ServiceKind::CaseManagement),
            "sqlite://./data/case-management.db?mode=rwc"
        );
        assert_eq!(
            settings.url(ServiceKind::Reporting),
            "http://127.0.0.1:50053"
        );
        assert!(settings.parties.is_empty());
        assert_eq!(settings.mode, Mode::Development);
        assert_eq!(settings.auth.issuer, "docket");
        assert!(settings.sealing.keys.is_empty());
        assert_eq!(settings.request_timeout_seconds, 30);
        assert_eq!(settings.stream_idle_timeout_seconds.get(), 60);
        assert_eq!(
            settings.method_timeouts,
            [
                MethodTimeout {
                    method: "docket.reporting.v1.ReportingService/CreateRelease".into(),
                    timeout_seconds: 600,
                },
                MethodTimeout {
                    method: "docket.reporting.v1.ReportingService/ReproduceRelease".into(),
                    timeout_seconds: 1_800,
                }
            ]
        );
    }

    #[test]
    fn sealing_keys_come_from_the_environment_by_id() {
        let settings = with_env(&[
            ("DOCKET__MODE", "production"),
            ("DOCKET__SEALING__CURRENT_KEY_ID", "k2"),
            ("DOCKET__SEALING__KEYS__K1", "aa"),
            ("DOCKET__SEALING__KEYS__K2", "bb"),
        ]);
        assert_eq!(settings.mode, Mode::Production);
        assert_eq!(settings.sealing.current_key_id.as_deref(), Some("k2"));
        assert_eq!(settings.sealing.keys.len(), 2);
        assert!(
            !format!("{settings:?}").contains("bb"),
            "secrets stay out of logs"
        );
    }

    #[test]
    fn environment_variables_override_sections_and_lists() {
        let settings = with_env(&[
            ("DOCKET__INTAKE__LISTEN", "0.0.0.0:6000"),
            ("DOCKET__REPORTING__HEALTH_LISTEN", "0.0.0.0:6063"),
            ("DOCKET__CASE_MANAGEMENT__URL", "http://cases:50052"),
            (
                "DOCKET__CASE_MANAGEMENT__TAXONOMY_FILE",
                "/etc/docket/crimes.toml",
            ),
            (
                "DOCKET__REPORTING__DATABASE_URL",
                "postgres://u@h/db?options=a,b",
            ),
            ("DOCKET__PARTIES", "AZ,AM,AM-NK"),
            ("DOCKET__SHUTDOWN_GRACE_SECONDS", "5"),
            (
                "DOCKET__CASE_MANAGEMENT__TIMESTAMPING__URL",
                "https://tsa.example.org/tsr",
            ),
            (
                "DOCKET__REPORTING__TIMESTAMPING__AUDIT_HEAD_INTERVAL_SECONDS",
                "600",
            ),
        ]);
        assert_eq!(settings.intake.listen.to_string(), "0.0.0.0:6000");
        assert_eq!(
            settings.case_management.timestamping.url.as_deref(),
            Some("https://tsa.example.org/tsr")
        );
        assert_eq!(settings.intake.timestamping.url, None);
        assert_eq!(
            settings.reporting.timestamping.audit_head_interval_seconds,
            600
        );
        assert_eq!(settings.reporting.timestamping.request_timeout_seconds, 30);
        assert_eq!(
            settings.health_listen(ServiceKind::Reporting),
            Some("0.0.0.0:6063".parse().unwrap())
        );
        assert_eq!(settings.health_listen(ServiceKind::Intake), None);
        assert_eq!(
            settings.url(ServiceKind::CaseManagement),
            "http://cases:50052"
        );
        assert_eq!(
            settings.database_url(ServiceKind::Reporting),
            "postgres://u@h/db?options=a,b"
        );
        assert_eq!(
            settings.case_management.taxonomy_file,
            Some(PathBuf::from("/etc/docket/crimes.toml"))
        );
        assert_eq!(settings.parties, ["AZ", "AM", "AM-NK"]);
        assert_eq!(settings.shutdown_grace_seconds, 5);
    }

    #[test]
    fn the_example_settings_file_and_the_kubernetes_settings_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let example = root.join("deploy/docket.example.toml");
        Settings::load_from(
            Some(&example),
            Environment::default().source(Some(HashMap::new())),
        )
        .expect("deploy/docket.example.toml loads");
        // The TOML embedded in the ConfigMap, after its `docket.toml: |` line.
        let configmap =
            std::fs::read_to_string(root.join("deploy/kubernetes/base/configmap.yaml")).unwrap();
        let (_, embedded) = configmap.split_once("docket.toml: |\n").unwrap();
        let toml: String = embedded
            .lines()
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("docket.toml");
        std::fs::write(&file, toml).unwrap();
        let settings = Settings::load_from(
            Some(&file),
            Environment::default().source(Some(HashMap::new())),
        )
        .expect("the ConfigMap's docket.toml loads");
        assert_eq!(settings.mode, Mode::Production);
        for kind in ServiceKind::ALL {
            assert!(
                settings.health_listen(kind).is_some(),
                "the kubelet's plaintext probes need {}'s health listener",
                kind.name()
            );
        }
    }

    #[test]
    fn a_zero_limit_is_refused_rather_than_hanging_every_call() {
        let vars = HashMap::from([(
            "DOCKET__LIMITS__MAX_CONCURRENT_REQUESTS_PER_CONNECTION".to_owned(),
            "0".to_owned(),
        )]);
        assert!(Settings::load_from(None, Environment::default().source(Some(vars))).is_err());
    }

    #[test]
    fn a_misspelt_setting_is_an_error_not_silence() {
        let vars = HashMap::from([("DOCKET__INTAKE__LISTN".to_owned(), "x".to_owned())]);
        assert!(Settings::load_from(None, Environment::default().source(Some(vars))).is_err());
    }
}
