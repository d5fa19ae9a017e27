//! Counting and timing every call for the metrics (see `crate::metrics`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tower::{Layer, Service};

use super::methods::method;

/// The `method` label of every path no Docket host serves: made-up paths, refused before any
/// handler, must not each add series that anyone may create without a token.
const UNKNOWN_METHOD: &str = "unknown";

/// Records each call's count, gRPC code and latency, labelled with the host's name and the
/// method (one [`UNKNOWN_METHOD`] label for every path that is not a method).
#[derive(Debug, Clone)]
pub struct MeteredLayer {
    service: &'static str,
}

impl MeteredLayer {
    pub fn new(service: &'static str) -> Self {
        Self { service }
    }
}

impl<S> Layer<S> for MeteredLayer {
    type Service = Metered<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Metered {
            inner,
            service: self.service,
        }
    }
}

/// The service [`MeteredLayer`] wraps.
#[derive(Debug, Clone)]
pub struct Metered<S> {
    inner: S,
    service: &'static str,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for Metered<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = http::Response<MeteredBody<ResBody, Call>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let call = Call {
            service: self.service,
            method: method(request.uri().path())
                .map_or(UNKNOWN_METHOD, |method| method.path.as_str()),
            started: Instant::now(),
            // The call's server span (`layers::make_span`), entered around this call.
            span: tracing::Span::current(),
        };
        let answer = self.inner.call(request);
        Box::pin(async move {
            match answer.await {
                // The call ends with its body: a stream's code comes in its trailers.
                Ok(response) => {
                    let header_code = grpc_code(response.headers());
                    Ok(response.map(|body| MeteredBody {
                        inner: body,
                        call: Some(call),
                        header_code,
                    }))
                }
                Err(error) => {
                    call.finish("TRANSPORT_ERROR");
                    Err(error)
                }
            }
        })
    }
}

/// What is done with a call's gRPC code once it is known.
pub(super) trait Finish {
    fn finish(self, code: &'static str);
}

/// A call being measured.
#[derive(Debug)]
pub struct Call {
    service: &'static str,
    method: &'static str,
    started: Instant,
    span: tracing::Span,
}

impl Finish for Call {
    fn finish(self, code: &'static str) {
        super::rpc_span::record_code(&self.span, code, super::rpc_span::Kind::Server);
        self.record(code);
    }
}

impl Call {
    fn record(self, code: &'static str) {
        metrics::counter!(
            "docket_rpc_requests_total",
            "service" => self.service,
            "method" => self.method,
            "code" => code
        )
        .increment(1);
        metrics::histogram!(
            "docket_rpc_duration_seconds",
            "service" => self.service,
            "method" => self.method
        )
        .record(self.started.elapsed().as_secs_f64());
    }
}

/// The code in `grpc-status`, if there is one.
pub(super) fn grpc_code(headers: &http::HeaderMap) -> Option<&'static str> {
    headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map(|code| code_name(tonic::Code::from_i32(code)))
}

pin_project_lite::pin_project! {
    /// A response body that records its call when it ends: with the code of its trailers, or
    /// of its headers for an answer that was "trailers-only" (an error a handler returned), or
    /// `CANCELLED` when it is dropped before its end (the client went away).
    pub struct MeteredBody<B, C> where C: Finish {
        #[pin]
        pub(super) inner: B,
        pub(super) call: Option<C>,
        pub(super) header_code: Option<&'static str>,
    }

    impl<B, C> PinnedDrop for MeteredBody<B, C> where C: Finish {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(call) = this.call.take() {
                call.finish(this.header_code.unwrap_or("CANCELLED"));
            }
        }
    }
}

impl<B: http_body::Body, C: Finish> http_body::Body for MeteredBody<B, C> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        let code = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame.trailers_ref().map(grpc_code),
            Poll::Ready(Some(Err(_))) => Some(Some("TRANSPORT_ERROR")),
            Poll::Ready(None) => Some(None),
            Poll::Pending => None,
        };
        if let Some(code) = code
            && let Some(call) = this.call.take()
        {
            call.finish(code.or(*this.header_code).unwrap_or("OK"));
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

pub(super) fn code_name(code: tonic::Code) -> &'static str {
    match code {
        tonic::Code::Ok => "OK",
        tonic::Code::Cancelled => "CANCELLED",
        tonic::Code::Unknown => "UNKNOWN",
        tonic::Code::InvalidArgument => "INVALID_ARGUMENT",
        tonic::Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        tonic::Code::NotFound => "NOT_FOUND",
        tonic::Code::AlreadyExists => "ALREADY_EXISTS",
        tonic::Code::PermissionDenied => "PERMISSION_DENIED",
        tonic::Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        tonic::Code::FailedPrecondition => "FAILED_PRECONDITION",
        tonic::Code::Aborted => "ABORTED",
        tonic::Code::OutOfRange => "OUT_OF_RANGE",
        tonic::Code::Unimplemented => "UNIMPLEMENTED",
        tonic::Code::Internal => "INTERNAL",
        tonic::Code::Unavailable => "UNAVAILABLE",
        tonic::Code::DataLoss => "DATA_LOSS",
        tonic::Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use http_body::{Body, Frame};
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    /// A body that yields the frames it was given.
    struct Frames(VecDeque<Frame<bytes::Bytes>>);

    impl Body for Frames {
        type Data = bytes::Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
            Poll::Ready(self.0.pop_front().map(Ok))
        }
    }

    fn body(
        frames: Vec<Frame<bytes::Bytes>>,
        header_code: Option<&'static str>,
    ) -> MeteredBody<Frames, Call> {
        MeteredBody {
            inner: Frames(frames.into()),
            call: Some(Call {
                service: "test",
                method: "/docket.test.v1.Test/Stream",
                started: Instant::now(),
                span: tracing::Span::none(),
            }),
            header_code,
        }
    }

    fn trailers(code: i32) -> Frame<bytes::Bytes> {
        let mut map = http::HeaderMap::new();
        map.insert("grpc-status", code.into());
        Frame::trailers(map)
    }

    async fn drain(mut body: MeteredBody<Frames, Call>) {
        while std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
            .await
            .is_some()
        {}
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_stream_is_counted_with_the_code_it_ends_with() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let _guard = metrics::set_default_local_recorder(&recorder);
        let data = || Frame::data(bytes::Bytes::from_static(b"message"));

        // Failed after its first message: the code is in the trailers.
        drain(body(vec![data(), trailers(15)], None)).await;
        // Answered and ended cleanly.
        drain(body(vec![data(), trailers(0)], None)).await;
        // Refused by its handler: "trailers-only", the code in the headers.
        drain(body(vec![], Some("PERMISSION_DENIED"))).await;
        // Dropped before its end: the client went away.
        let mut cut = body(vec![data(), trailers(0)], None);
        let _ = std::future::poll_fn(|cx| Pin::new(&mut cut).poll_frame(cx)).await;
        drop(cut);

        let rendered = handle.render();
        for code in ["DATA_LOSS", "OK", "PERMISSION_DENIED", "CANCELLED"] {
            let line = format!(
                "docket_rpc_requests_total{{service=\"test\",method=\"/docket.test.v1.Test/Stream\",code=\"{code}\"}} 1"
            );
            assert!(rendered.contains(&line), "no {line} in:\n{rendered}");
        }
    }
}
