//! Load shedding: at most so many calls in flight per service; past that, a call is refused at
//! once with RESOURCE_EXHAUSTED instead of queueing, so that a flood from one client degrades
//! into fast refusals rather than slow answers for everyone. Health checks are never refused.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;
use tower::{Layer, Service};

/// Limits a host to `limit` calls in flight.
#[derive(Debug, Clone)]
pub struct ShedLayer {
    permits: Arc<Semaphore>,
}

impl ShedLayer {
    pub fn new(limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit.max(1))),
        }
    }
}

impl<S> Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Shed {
            inner,
            permits: Arc::clone(&self.permits),
        }
    }
}

/// The service [`ShedLayer`] wraps.
#[derive(Debug, Clone)]
pub struct Shed<S> {
    inner: S,
    permits: Arc<Semaphore>,
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
        let permit: OwnedSemaphorePermit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                tracing::warn!(method = %request.uri().path(), "overloaded: call refused");
                let status =
                    Status::resource_exhausted("the service is overloaded; retry with backoff");
                return Box::pin(std::future::ready(Ok(status.into_http())));
            }
        };
        let call = self.inner.call(request);
        Box::pin(async move {
            let answer = call.await;
            drop(permit);
            answer
        })
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
        let mut service = ShedLayer::new(1).layer(inner);
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
}
