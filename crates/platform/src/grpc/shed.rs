//! Load shedding: at most so many calls in flight per service; past that, a call is refused at
//! once with RESOURCE_EXHAUSTED instead of queueing, so that a flood from one client degrades
//! into fast refusals rather than slow answers for everyone. Health checks are never refused.
//!
//! Calls with no caller (public methods, reflection) draw on a small budget of their own and
//! never on the one of authenticated callers: anyone on the network can send those, and they
//! must not be able to take the capacity staff need. The layer runs after authentication, which
//! says who the caller is (a token sent to a public method does not make its caller staff).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tower::{Layer, Service};

use crate::auth::CallContext;

/// How long a refused client is asked to wait before it tries again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Limits a host to `staff` calls of authenticated callers and `anonymous` calls without one
/// in flight.
#[derive(Debug, Clone)]
pub struct ShedLayer {
    pools: Pools,
}

#[derive(Debug, Clone)]
struct Pools {
    staff: Arc<Semaphore>,
    anonymous: Arc<Semaphore>,
    /// The host's name, the `service` label of the in-flight and shed metrics.
    service: &'static str,
}

impl ShedLayer {
    pub fn new(staff: usize, anonymous: usize) -> Self {
        Self {
            pools: Pools {
                staff: Arc::new(Semaphore::new(staff.max(1))),
                anonymous: Arc::new(Semaphore::new(anonymous.max(1))),
                service: "",
            },
        }
    }

    /// Labels the metrics `docket_rpc_in_flight` and `docket_rpc_shed_total` with `service`.
    pub fn named(mut self, service: &'static str) -> Self {
        self.pools.service = service;
        self
    }
}

impl<S> Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Shed {
            inner,
            pools: self.pools.clone(),
        }
    }
}

/// The service [`ShedLayer`] wraps.
#[derive(Debug, Clone)]
pub struct Shed<S> {
    inner: S,
    pools: Pools,
}

type Boxed<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for Shed<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Boxed<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        if request.uri().path().starts_with("/grpc.health.v1.Health/") {
            return Box::pin(self.inner.call(request));
        }
        let anonymous = request
            .extensions()
            .get::<CallContext>()
            .is_none_or(|context| context.caller.is_none());
        let pool = if anonymous {
            &self.pools.anonymous
        } else {
            &self.pools.staff
        };
        let caller = if anonymous { "anonymous" } else { "staff" };
        let service = self.pools.service;
        let permit: OwnedSemaphorePermit = match Arc::clone(pool).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                metrics::counter!("docket_rpc_shed_total", "service" => service, "caller" => caller)
                    .increment(1);
                tracing::warn!(method = %request.uri().path(), anonymous, "overloaded: call refused");
                let status = Status::with_error_details(
                    Code::ResourceExhausted,
                    "the service is overloaded; retry with backoff",
                    ErrorDetails::with_retry_info(Some(RETRY_AFTER)),
                );
                return Box::pin(std::future::ready(Ok(status.into_http())));
            }
        };
        let in_flight = InFlight::new(service, caller);
        let call = self.inner.call(request);
        Box::pin(async move {
            let answer = call.await;
            drop(permit);
            drop(in_flight);
            answer
        })
    }
}

/// One call counted in `docket_rpc_in_flight` until it is dropped (answered or abandoned).
struct InFlight(metrics::Gauge);

impl InFlight {
    fn new(service: &'static str, caller: &'static str) -> Self {
        let gauge =
            metrics::gauge!("docket_rpc_in_flight", "service" => service, "caller" => caller);
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    #[tokio::test]
    async fn past_the_limit_calls_are_refused_at_once_and_admitted_again_after() {
        let (release, released) = oneshot::channel::<()>();
        let released = Arc::new(tokio::sync::Mutex::new(Some(released)));
        let inner = tower::service_fn(move |_: http::Request<()>| {
            let released = Arc::clone(&released);
            async move {
                if let Some(wait) = released.lock().await.take() {
                    let _ = wait.await;
                }
                Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
            }
        });
        let mut service = ShedLayer::new(1, 1).layer(inner);
        let request = || {
            http::Request::builder()
                .uri("/docket.x.v1.X/Call")
                .body(())
                .unwrap()
        };
        let first = tokio::spawn(service.call(request()));
        tokio::task::yield_now().await;
        let refused = service.call(request()).await.unwrap();
        assert_eq!(
            refused.headers().get("grpc-status").unwrap(),
            "8",
            "RESOURCE_EXHAUSTED"
        );
        let health = http::Request::builder()
            .uri("/grpc.health.v1.Health/Check")
            .body(())
            .unwrap();
        let probe = tokio::spawn(service.call(health));
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        probe.await.unwrap().unwrap();
        let admitted = service.call(request()).await.unwrap();
        assert!(admitted.headers().get("grpc-status").is_none());
    }

    #[tokio::test]
    async fn anonymous_calls_cannot_take_the_capacity_of_staff() {
        let (release, released) = oneshot::channel::<()>();
        let released = Arc::new(tokio::sync::Mutex::new(Some(released)));
        let inner = tower::service_fn(move |_: http::Request<()>| {
            let released = Arc::clone(&released);
            async move {
                // Taken apart from the wait, so that the lock is not held while waiting.
                let wait = released.lock().await.take();
                if let Some(wait) = wait {
                    let _ = wait.await;
                }
                Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
            }
        });
        let mut service = ShedLayer::new(1, 1).layer(inner);
        let call = |caller: Option<crate::auth::Caller>| {
            let mut request = http::Request::builder()
                .uri("/docket.x.v1.X/Call")
                .body(())
                .unwrap();
            request.extensions_mut().insert(CallContext {
                caller,
                method: "/docket.x.v1.X/Call".into(),
                request_id: String::new(),
            });
            request
        };
        let officer = || {
            Some(crate::auth::Caller {
                subject: "officer".into(),
                role: crate::auth::Role::IntakeOfficer,
            })
        };
        let holding = tokio::spawn(service.call(call(None)));
        tokio::task::yield_now().await;
        let refused = service.call(call(None)).await.unwrap();
        assert_eq!(refused.headers().get("grpc-status").unwrap(), "8");
        let status = Status::from_header_map(refused.headers()).unwrap();
        assert_eq!(
            status.get_details_retry_info().and_then(|r| r.retry_delay),
            Some(RETRY_AFTER),
            "the refusal says when to come back"
        );
        let staff = service.call(call(officer())).await.unwrap();
        assert!(
            staff.headers().get("grpc-status").is_none(),
            "staff are admitted while the anonymous budget is spent"
        );
        release.send(()).unwrap();
        holding.await.unwrap().unwrap();
    }
}
