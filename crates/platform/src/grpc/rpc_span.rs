//! Spans of gRPC calls after OpenTelemetry's RPC semantic conventions: named
//! `package.Service/Method`, of kind SERVER (a call served) or CLIENT (a call made), with
//! `rpc.system`, `rpc.service`, `rpc.method` and `rpc.grpc.status_code`, and the status ERROR
//! where the conventions say (server: the codes that mean the server failed; client: every code
//! but OK). A path that is no method of Docket's is named `unknown`: made-up paths must not name
//! spans.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tower::{Layer, Service};

use super::metered::{Finish, MeteredBody, code_name, grpc_code};
use super::methods::method;

/// Which side of the call a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Server,
    Client,
}

/// The span name, `rpc.service` and `rpc.method` of the call at `path`.
fn names(path: &str) -> (&'static str, &'static str, &'static str) {
    match method(path) {
        Some(known) => {
            let name = known.path.trim_start_matches('/');
            let (service, method) = name.split_once('/').unwrap_or((name, ""));
            (name, service, method)
        }
        None => ("unknown", "unknown", "unknown"),
    }
}

/// The span of a call served at `path`; `request_id` is Docket's own.
pub(super) fn server_span(path: &str, request_id: &str) -> tracing::Span {
    let (name, service, method) = names(path);
    tracing::info_span!(
        "rpc",
        otel.name = name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        otel.status_message = tracing::field::Empty,
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = tracing::field::Empty,
        method = path_or_unknown(path),
        request_id = %request_id,
        trace_id = tracing::field::Empty,
    )
}

/// The span of a call made to `path`.
fn client_span(path: &str) -> tracing::Span {
    let (name, service, method) = names(path);
    tracing::info_span!(
        "rpc_client",
        otel.name = name,
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        otel.status_message = tracing::field::Empty,
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = tracing::field::Empty,
    )
}

/// `path` when it is a method of Docket's, else `unknown` (the log's `method` field).
fn path_or_unknown(path: &str) -> &'static str {
    method(path).map_or("unknown", |known| known.path.as_str())
}

/// Records a call's gRPC `code` (its name, as `metered` keeps it) on its span.
pub(super) fn record_code(span: &tracing::Span, code: &'static str, kind: Kind) {
    let number = (0..=16).find(|n| code_name(tonic::Code::from_i32(*n)) == code);
    if let Some(number) = number {
        span.record("rpc.grpc.status_code", i64::from(number));
    }
    // Server spans: only the codes that say the server failed are errors; a caller's mistake
    // (INVALID_ARGUMENT, NOT_FOUND…) is not. Client spans: every code but OK.
    let error = match kind {
        Kind::Server => matches!(
            code,
            "UNKNOWN"
                | "DEADLINE_EXCEEDED"
                | "UNIMPLEMENTED"
                | "INTERNAL"
                | "UNAVAILABLE"
                | "DATA_LOSS"
                | "TRANSPORT_ERROR"
        ),
        Kind::Client => code != "OK",
    };
    if error {
        span.record("otel.status_code", "ERROR");
        span.record("otel.status_message", code);
    }
}

/// A call made, its span open until its answer ends.
#[derive(Debug)]
pub struct ClientCall(tracing::Span);

impl Finish for ClientCall {
    fn finish(self, code: &'static str) {
        record_code(&self.0, code, Kind::Client);
    }
}

/// Gives every call made through a channel a CLIENT span, and carries that span's trace
/// context to the server (`traceparent`), so that the server's span is its child.
#[derive(Debug, Clone, Default)]
pub struct ClientSpanLayer;

impl<S> Layer<S> for ClientSpanLayer {
    type Service = ClientSpans<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientSpans { inner }
    }
}

/// A channel whose calls have CLIENT spans (see [`ClientSpanLayer`]).
#[derive(Debug, Clone)]
pub struct ClientSpans<S> {
    inner: S,
}

impl<S> ClientSpans<S> {
    /// `inner` (a channel), its calls given CLIENT spans.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for ClientSpans<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: http_body::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    ResBody::Error: Into<tonic::codegen::StdError>,
{
    // The answer's body as tonic's own type again, which its clients require.
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        let span = client_span(request.uri().path());
        {
            let _entered = span.enter();
            crate::trace_context::inject_into_headers(request.headers_mut());
        }
        let answer = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        Box::pin(async move {
            let answered = {
                use tracing::Instrument as _;
                answer.instrument(span.clone()).await
            };
            match answered {
                Ok(response) => {
                    let header_code = grpc_code(response.headers());
                    Ok(response.map(|body| {
                        tonic::body::Body::new(MeteredBody {
                            inner: body,
                            call: Some(ClientCall(span)),
                            header_code,
                        })
                    }))
                }
                Err(error) => {
                    ClientCall(span).finish("UNAVAILABLE");
                    Err(error)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_named_after_the_method_and_made_up_paths_are_unknown() {
        assert_eq!(
            names("/docket.intake.v1.IntakeService/SubmitAllegation"),
            (
                "docket.intake.v1.IntakeService/SubmitAllegation",
                "docket.intake.v1.IntakeService",
                "SubmitAllegation"
            )
        );
        assert_eq!(
            names("/docket.intake.v1.IntakeService/Nonsense"),
            ("unknown", "unknown", "unknown")
        );
    }
}
