//! How long a call may take. A unary call is cancelled after the request timeout, as is a
//! server stream that has not started by then. A stream of messages is bounded by idleness
//! instead, never by its length: a 1 GiB upload over a slow field link may take an hour, but an
//! upload whose client sends nothing for the idle timeout, or a download whose client takes
//! nothing for as long while a message waits for it, is ended with DEADLINE_EXCEEDED, so that a
//! stalled client cannot hold a handler, a temporary file or an open blob for ever.
//!
//! A few unary methods may be given their own, longer limit (`method_timeouts` in settings:
//! `CreateRelease` computes and audits a release over the whole docket); every other call keeps
//! the request timeout.
//!
//! Which methods stream comes from the descriptor sets the host serves (Docket's own, health
//! and reflection), so a new streaming RPC is treated as one without anyone listing it.
//!
//! A server stream waiting for something to send (an event stream with no new event) is not
//! idle: only a message the client does not take counts. hyper polls a response body only when
//! the client's flow-control window has room, so the stall cannot be seen from inside the body;
//! a small task pulls the body instead and hands each frame on through a one-frame channel, and
//! it is that hand-over which must not wait longer than the idle timeout.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::Frame;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, Service};
use tracing::Instrument as _;

use super::methods::{Shape, method, shape_of};
use crate::settings::MethodTimeout;

/// Applies the request timeout to unary calls and the idle timeout to streams.
#[derive(Debug, Clone)]
pub struct DeadlineLayer {
    limits: Limits,
}

#[derive(Debug, Clone)]
struct Limits {
    request: Duration,
    idle: Duration,
    /// Unary methods' own limits, by request path (`/package.Service/Method`).
    by_method: Arc<HashMap<String, Duration>>,
}

impl Limits {
    /// The time a unary call (or a server stream's start) of `path` may take.
    fn request_timeout(&self, path: &str) -> Duration {
        self.by_method.get(path).copied().unwrap_or(self.request)
    }
}

impl DeadlineLayer {
    /// The request timeout for unary calls, but for the unary methods of `by_method` (request
    /// paths, as [`method_timeouts`] returns them), each given its own limit instead.
    pub fn with_method_timeouts(
        request_timeout: Duration,
        stream_idle_timeout: Duration,
        by_method: HashMap<String, Duration>,
    ) -> Self {
        Self {
            limits: Limits {
                request: request_timeout,
                idle: stream_idle_timeout,
                by_method: Arc::new(by_method),
            },
        }
    }
}

/// Why a method's own time limit in settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MethodTimeoutError {
    #[error(
        "method_timeouts names {0:?}, which no Docket host serves (write it as \
         `package.Service/Method`, e.g. `docket.reporting.v1.ReportingService/CreateRelease`)"
    )]
    Unknown(String),
    #[error(
        "method_timeouts names {0:?}, a client stream: streams are bounded by \
         stream_idle_timeout_seconds, not by a time limit"
    )]
    Stream(String),
    #[error("method_timeouts names {0:?} twice")]
    Twice(String),
}

/// The request paths and limits `settings` give their own time limit; refuses a method no host
/// serves (a misspelt name would silently leave the call at the request timeout) and a client
/// stream (bounded by idleness instead).
pub fn method_timeouts(
    settings: &[MethodTimeout],
) -> Result<HashMap<String, Duration>, MethodTimeoutError> {
    let mut by_path = HashMap::new();
    for entry in settings {
        let path = format!("/{}", entry.method.trim_start_matches('/'));
        let Some(found) = method(&path) else {
            return Err(MethodTimeoutError::Unknown(entry.method.clone()));
        };
        if found.shape.client_streaming {
            return Err(MethodTimeoutError::Stream(entry.method.clone()));
        }
        let limit = Duration::from_secs(entry.timeout_seconds);
        if by_path.insert(path, limit).is_some() {
            return Err(MethodTimeoutError::Twice(entry.method.clone()));
        }
    }
    Ok(by_path)
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadlines<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadlines {
            inner,
            limits: self.limits.clone(),
        }
    }
}

/// The service [`DeadlineLayer`] wraps.
#[derive(Debug, Clone)]
pub struct Deadlines<S> {
    inner: S,
    limits: Limits,
}

type Boxed<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, ResBody> Service<http::Request<Body>> for Deadlines<S>
where
    S: Service<http::Request<Body>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Boxed<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let timeout = self.limits.request_timeout(request.uri().path());
        let idle = self.limits.idle;
        let shape = shape_of(request.uri().path());
        // Named in the log when a stream is ended; unary calls need no copy.
        let method = if shape == Shape::default() {
            String::new()
        } else {
            request.uri().path().to_owned()
        };
        let request = if shape.client_streaming {
            let method = method.clone();
            request.map(|body| Body::new(IdleRequest::new(body, idle, method)))
        } else {
            request
        };
        let answer = self.inner.call(request);
        let span = tracing::Span::current();
        Box::pin(async move {
            // The handler of a client stream drains it before answering: only idleness bounds it.
            let response = if shape.client_streaming {
                answer.await?
            } else {
                match tokio::time::timeout(timeout, answer).await {
                    Ok(response) => response?,
                    Err(_) => return Ok(timed_out(timeout)),
                }
            };
            Ok(if shape.server_streaming {
                response.map(|body| watch_consumer(body, idle, method, span))
            } else {
                response.map(Body::new)
            })
        })
    }
}

/// The answer to a call that ran out of time: CANCELLED, as tonic's own timeout answered.
fn timed_out(timeout: Duration) -> http::Response<Body> {
    Status::cancelled(format!(
        "Timeout expired: the call took longer than the request timeout ({} s)",
        timeout.as_secs()
    ))
    .into_http()
}

/// What an idle stream ends with. Never CANCELLED: tonic reads a cancelled request body as the
/// clean end of the stream, and a cut upload must not look complete.
fn idle_status(idle: Duration, whose: &str) -> Status {
    Status::deadline_exceeded(format!(
        "the stream was idle: {whose} for {} s (stream_idle_timeout_seconds), so it was ended",
        idle.as_secs()
    ))
}

pin_project_lite::pin_project! {
    /// A request stream that fails with DEADLINE_EXCEEDED once the handler has waited the idle
    /// timeout for the client's next frame. Time the handler spends elsewhere does not count.
    struct IdleRequest {
        #[pin]
        inner: Body,
        #[pin]
        timer: Sleep,
        waiting: bool,
        expired: bool,
        idle: Duration,
        method: String,
    }
}

impl IdleRequest {
    fn new(inner: Body, idle: Duration, method: String) -> Self {
        Self {
            inner,
            timer: tokio::time::sleep(idle),
            waiting: false,
            expired: false,
            idle,
            method,
        }
    }
}

impl http_body::Body for IdleRequest {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let mut this = self.project();
        if *this.expired {
            return Poll::Ready(Some(Err(idle_status(
                *this.idle,
                "the client sent nothing",
            ))));
        }
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            *this.waiting = false;
            return Poll::Ready(frame);
        }
        if !*this.waiting {
            *this.waiting = true;
            this.timer.as_mut().reset(Instant::now() + *this.idle);
        }
        ready!(this.timer.poll(cx));
        *this.expired = true;
        tracing::info!(
            method = %this.method,
            idle_seconds = this.idle.as_secs(),
            "the client sent nothing for the idle timeout: its stream is ended"
        );
        Poll::Ready(Some(Err(idle_status(
            *this.idle,
            "the client sent nothing",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        !self.expired && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

type Handed = Result<Frame<Bytes>, Status>;

/// The response body `body`, pulled by a task that ends it with DEADLINE_EXCEEDED when the
/// client leaves a frame untaken for `idle`; the producer's stream is dropped at once then, so
/// that whatever it holds (an open blob, a database cursor) is released.
fn watch_consumer<B>(body: B, idle: Duration, method: String, span: tracing::Span) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError>,
{
    let (frames, handed) = mpsc::channel::<Handed>(1);
    tokio::spawn(pull(Box::pin(body), frames, idle, method).instrument(span));
    Body::new(HandedOn { handed })
}

async fn pull<B>(
    mut body: Pin<Box<B>>,
    frames: mpsc::Sender<Handed>,
    idle: Duration,
    method: String,
) where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError>,
{
    loop {
        // Room in the channel means the client took the frame before: it is not stalled.
        let room = match tokio::time::timeout(idle, frames.reserve()).await {
            Ok(Ok(room)) => room,
            Ok(Err(_)) => return, // the client went away
            Err(_) => break,
        };
        let next = tokio::select! {
            next = poll_fn(|cx| body.as_mut().poll_frame(cx)) => next,
            () = frames.closed() => return,
        };
        match next {
            Some(Ok(frame)) => room.send(Ok(frame)),
            Some(Err(error)) => {
                room.send(Err(Status::from_error(error.into())));
                return;
            }
            None => return,
        }
    }
    drop(body);
    tracing::info!(
        %method,
        idle_seconds = idle.as_secs(),
        "the client took nothing for the idle timeout: its stream is ended"
    );
    // The end is said once the client reads again; if it never does, it goes with the connection.
    let status = idle_status(idle, "the client took nothing");
    let mut trailers = http::HeaderMap::new();
    let end = match status.add_header(&mut trailers) {
        Ok(()) => Ok(Frame::trailers(trailers)),
        Err(status) => Err(status),
    };
    let _ = frames.send(end).await;
}

/// The frames [`pull`] hands on.
struct HandedOn {
    handed: mpsc::Receiver<Handed>,
}

impl http_body::Body for HandedOn {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        self.handed.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, seconds: u64) -> MethodTimeout {
        MethodTimeout {
            method: method.into(),
            timeout_seconds: seconds,
        }
    }

    #[test]
    fn a_method_limit_applies_to_that_method_alone() {
        let by_method = method_timeouts(&[entry(
            "docket.reporting.v1.ReportingService/CreateRelease",
            600,
        )])
        .unwrap();
        let layer = DeadlineLayer::with_method_timeouts(
            Duration::from_secs(30),
            Duration::from_secs(60),
            by_method,
        );
        let limits = &layer.limits;
        assert_eq!(
            limits.request_timeout("/docket.reporting.v1.ReportingService/CreateRelease"),
            Duration::from_secs(600)
        );
        for other in [
            "/docket.reporting.v1.ReportingService/GetRelease",
            "/docket.reporting.v1.ReportingService/CreateRelease/",
            "/no.such.Service/CreateRelease",
        ] {
            assert_eq!(limits.request_timeout(other), Duration::from_secs(30));
        }
    }

    #[test]
    fn a_misspelt_method_or_a_client_stream_is_refused() {
        assert!(matches!(
            method_timeouts(&[entry(
                "docket.reporting.v1.ReportingService/CreateReleases",
                600
            )]),
            Err(MethodTimeoutError::Unknown(_))
        ));
        assert!(matches!(
            method_timeouts(&[entry("/docket.intake.v1.IntakeService/UploadEvidence", 600)]),
            Err(MethodTimeoutError::Stream(_))
        ));
        let twice = entry("/docket.reporting.v1.ReportingService/CreateRelease", 1);
        assert!(matches!(
            method_timeouts(&[twice.clone(), twice]),
            Err(MethodTimeoutError::Twice(_))
        ));
    }
}
