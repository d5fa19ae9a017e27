//! The tower layers around every service: a request id on each call (kept from the client's
//! `x-request-id` or made as a UUID v7), echoed in the answer, and a tracing span per call
//! carrying method and request id.

use http::HeaderValue;
use tower_http::classify::{GrpcCode, GrpcErrorsAsFailures, SharedClassifier};
use tower_http::request_id::{MakeRequestId, RequestId};

/// The header that carries the request id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Makes a UUID v7 request id: sortable by time, like every other id in Docket.
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _request: &http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// A span per call. The request id is already set: the request-id layer runs first.
pub fn make_span(request: &http::Request<tonic::body::Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-");
    let span = tracing::info_span!("rpc", method = %request.uri().path(), request_id = %request_id);
    crate::trace_context::continue_from_headers(&span, request.headers());
    span
}

/// Answers a client caused are not failures of the service: they are logged quietly.
pub fn classifier() -> SharedClassifier<GrpcErrorsAsFailures> {
    SharedClassifier::new(
        GrpcErrorsAsFailures::new()
            .with_success(GrpcCode::InvalidArgument)
            .with_success(GrpcCode::NotFound)
            .with_success(GrpcCode::AlreadyExists)
            .with_success(GrpcCode::FailedPrecondition)
            .with_success(GrpcCode::Aborted)
            .with_success(GrpcCode::OutOfRange)
            .with_success(GrpcCode::Unauthenticated)
            .with_success(GrpcCode::PermissionDenied)
            .with_success(GrpcCode::Cancelled),
    )
}
