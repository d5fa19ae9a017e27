//! Hosting a service over gRPC the same way everywhere: bind first (port 0 allowed), then serve
//! the service's routes beside health and reflection (v1 and v1alpha, for grpcurl 1.8), behind
//! request ids, tracing and time limits (`deadlines`), until shutdown, then drain under a grace
//! period. Optionally, health alone on a plaintext listener of its own, for probes that cannot
//! speak TLS.

mod client;
mod deadlines;
mod health;
mod host;
mod layers;
mod malformed;
mod metered;
mod methods;
mod readiness;
mod rpc_span;
mod shed;
pub mod tls;

pub use client::{AddressRange, ClientAddress, ClientAddresses};
pub use deadlines::MethodTimeoutError;
pub use host::{GrpcHost, HostOptions, HostOptionsError};
pub use layers::REQUEST_ID_HEADER;
pub use malformed::{is_malformed_request, malformed_request};
pub use readiness::LIVENESS;
pub use rpc_span::{ClientSpanLayer, ClientSpans};
