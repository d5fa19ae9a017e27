//! What every Docket service needs and none should write twice: settings, telemetry, database
//! connection and migration, the gRPC host (health, reflection, request ids, tracing, graceful
//! shutdown), the mapping of invalid input to `INVALID_ARGUMENT`, and RFC 3161 trusted time for
//! the audit chains' heads.

pub mod audit;
pub mod auth;
pub mod db;
pub mod error;
pub mod etag;
pub mod events;
pub mod files;
pub mod grpc;
pub mod history;
pub mod journal;
pub mod lease;
pub mod metrics;
pub mod outbox;
pub mod paging;
pub mod reseal;
pub mod sealed_keys;
pub mod sealing;
pub mod secrets;
pub mod settings;
pub mod shutdown;
pub mod signed_file;
pub mod telemetry;
pub mod timestamp;
pub mod trace_context;

pub use settings::{MethodTimeout, Mode, ServiceKind, Settings};
