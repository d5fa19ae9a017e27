//! Logs and spans on standard error: human-readable, or one JSON object per line for log
//! collectors; and, when an OTLP endpoint is set, spans exported as OpenTelemetry traces.

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::settings::LogFormat;

/// What must outlive the program's work: the trace exporter, flushed by [`Telemetry::shutdown`].
#[derive(Debug)]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans not sent yet; call once the work is done.
    pub async fn shutdown(self) {
        if let Some(traces) = self.traces {
            // Shutting down blocks until the exporter answers, on the runtime's own threads.
            let flushed = tokio::task::spawn_blocking(move || traces.shutdown()).await;
            if let Ok(Err(error)) = flushed {
                tracing::warn!(%error, "the last traces could not be exported");
            }
        }
    }
}

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot export traces to the OTLP endpoint: {0}")]
pub struct TelemetryError(#[from] opentelemetry_otlp::ExporterBuildError);

/// Installs the global subscriber. `RUST_LOG`, when set, wins over `filter`. With
/// `otlp_endpoint` (a gRPC URL such as `http://otel-collector:4317`), spans are exported there
/// as traces of the service `service_name` (`OTEL_SERVICE_NAME`, when set, wins; so do
/// `OTEL_RESOURCE_ATTRIBUTES`), and trace context is propagated on calls between the services;
/// a warning says when the collector cannot be reached (and spans are dropped). Must run
/// inside the Tokio runtime when `otlp_endpoint` is set. Calling it twice is harmless (tests
/// do): the second subscriber is not installed.
pub fn init(
    filter: &str,
    format: LogFormat,
    otlp_endpoint: Option<&str>,
    service_name: &str,
) -> Result<Telemetry, TelemetryError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    // A failed write to a closed stderr would otherwise be reported with `eprintln!`, which
    // panics on that same closed stderr: losing log lines must not stop the service.
    let text = (format == LogFormat::Text).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .log_internal_errors(false)
    });
    // The event's fields at the top level, and the spans it happened in (a call's span
    // carries its request id) as a list.
    let json = (format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .with_writer(std::io::stderr)
            .log_internal_errors(false)
    });
    let traces = match otlp_endpoint {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()?;
            // The builder's detectors read OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES;
            // ours is only the default.
            let mut resource = Resource::builder();
            if std::env::var("OTEL_SERVICE_NAME").map_or(true, |name| name.is_empty()) {
                resource = resource.with_service_name(service_name.to_owned());
            }
            watch_collector(endpoint);
            Some(
                SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(resource.build())
                    .build(),
            )
        }
        None => None,
    };
    let otel = traces
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("docket")));
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .with(otel)
        .try_init()
        .is_ok();
    if installed && traces.is_some() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    }
    Ok(Telemetry { traces })
}

/// How often the collector's reachability is checked.
const COLLECTOR_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// Warns whenever the collector at `endpoint` stops accepting connections (the exporter would
/// drop the spans it cannot send without a word), and says when it is back.
fn watch_collector(endpoint: &str) {
    let Some(address) = collector_address(endpoint) else {
        tracing::warn!(endpoint, "cannot tell the trace collector's host and port");
        return;
    };
    let endpoint = endpoint.to_owned();
    tokio::spawn(async move {
        let mut reachable = true;
        loop {
            let connected = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                tokio::net::TcpStream::connect(address.as_str()),
            )
            .await;
            match connected {
                Ok(Ok(_)) if !reachable => {
                    reachable = true;
                    tracing::info!(%endpoint, "the trace collector is reachable again");
                }
                Ok(Ok(_)) => {}
                Ok(Err(error)) if reachable => {
                    reachable = false;
                    tracing::warn!(
                        %endpoint, %error,
                        "the trace collector cannot be reached: spans are dropped until it can"
                    );
                }
                Err(_) if reachable => {
                    reachable = false;
                    tracing::warn!(
                        %endpoint,
                        "the trace collector does not answer: spans are dropped until it does"
                    );
                }
                _ => {}
            }
            tokio::time::sleep(COLLECTOR_CHECK).await;
        }
    });
}

/// `host:port` of an OTLP gRPC endpoint URL (port 4317 when none is given).
fn collector_address(endpoint: &str) -> Option<String> {
    let uri: http::Uri = endpoint.parse().ok()?;
    let host = uri.host()?;
    let port = uri.port_u16().unwrap_or(4317);
    Some(format!("{host}:{port}"))
}
