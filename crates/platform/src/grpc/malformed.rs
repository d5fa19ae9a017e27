//! A request that is not a well-formed protobuf message (a string that is not UTF-8, a message
//! cut short, a frame that ends early) is the caller's fault: INVALID_ARGUMENT. tonic's codec
//! reports such decode errors as INTERNAL before any handler runs, which tells the client the
//! service failed and sets off the service's own alarms; this layer answers them as what they
//! are. Our own internal errors never read like a decode error (see `crate::error::internal`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::{Code, Status};
use tower::{Layer, Service};

/// How tonic's decoder begins the messages of the errors it finds in a request's bytes.
const DECODE_ERRORS: [&str; 5] = [
    "failed to decode Protobuf message",
    "Unexpected EOF decoding stream",
    "Missing request message",
    "protocol error: received message with",
    "Error decompressing",
];

/// Whether `status` is tonic's report of a request it could not decode.
pub fn is_malformed_request(status: &Status) -> bool {
    status.code() == Code::Internal
        && DECODE_ERRORS
            .iter()
            .any(|prefix| status.message().starts_with(prefix))
}

/// INVALID_ARGUMENT for a request tonic could not decode; `status` is tonic's report.
pub fn malformed_request(status: &Status) -> Status {
    tracing::info!(cause = %status.message(), "a malformed request refused");
    Status::invalid_argument(format!(
        "the request is not a well-formed protobuf message of this method: {}",
        status.message()
    ))
}

/// Answers undecodable requests INVALID_ARGUMENT instead of INTERNAL.
#[derive(Debug, Clone, Copy, Default)]
pub struct MalformedLayer;

impl<S> Layer<S> for MalformedLayer {
    type Service = Malformed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Malformed { inner }
    }
}

/// The service [`MalformedLayer`] wraps.
#[derive(Debug, Clone)]
pub struct Malformed<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for Malformed<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            // A decode error comes before any message: a "trailers-only" answer, its status
            // in the headers.
            match Status::from_header_map(response.headers()) {
                Some(status) if is_malformed_request(&status) => {
                    Ok(malformed_request(&status).into_http())
                }
                Some(_) | None => Ok(response),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer_of(status: Status) -> Status {
        let inner = tower::service_fn(move |_: http::Request<()>| {
            let status = status.clone();
            async move { Ok::<_, std::convert::Infallible>(status.into_http::<String>()) }
        });
        let response = MalformedLayer
            .layer(inner)
            .call(http::Request::new(()))
            .await
            .unwrap();
        Status::from_header_map(response.headers()).unwrap()
    }

    #[tokio::test]
    async fn decode_errors_are_the_callers_and_other_internal_errors_stay_internal() {
        let undecodable = Status::internal(
            "failed to decode Protobuf message: Allegation.narrative: invalid string value: \
             data is not UTF-8 encoded",
        );
        assert_eq!(answer_of(undecodable).await.code(), Code::InvalidArgument);
        let cut = Status::internal("Unexpected EOF decoding stream.");
        assert_eq!(answer_of(cut).await.code(), Code::InvalidArgument);
        let ours = Status::internal("internal error; the service logged the cause");
        assert_eq!(answer_of(ours).await.code(), Code::Internal);
    }
}
