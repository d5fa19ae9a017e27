//! The tower layers around every service: a request id on each call (kept from the client's
//! `x-request-id` when it is a short token of safe characters, else made as a UUID v7), echoed
//! in the answer, and a tracing span per call carrying method and request id.

use http::HeaderValue;
use tower_http::classify::{GrpcCode, GrpcErrorsAsFailures, SharedClassifier};
use tower_http::request_id::{MakeRequestId, RequestId};

/// The header that carries the request id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest request id kept from a client.
pub const MAX_REQUEST_ID_BYTES: usize = 64;

/// Whether a client's request id may be kept: 1 to [`MAX_REQUEST_ID_BYTES`] of `A-Z a-z 0-9 . _ -`
/// (UUIDs, ULIDs, W3C trace ids, and the like). It goes into every log line and audit entry of
/// the call, so nothing that could forge a line, hide text or swell the chain gets in.
pub fn is_usable_request_id(value: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_BYTES).contains(&value.len())
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Replaces a client's `x-request-id` that is not usable (see [`is_usable_request_id`]), or
/// sent more than once, with a new one, and logs that it did.
pub fn replace_unusable_request_id<B>(mut request: http::Request<B>) -> http::Request<B> {
    let headers = request.headers_mut();
    let mut given = headers.get_all(REQUEST_ID_HEADER).iter();
    let (first, second) = (given.next(), given.next());
    let unusable = match (first, second) {
        (None, _) => return request,
        (Some(value), None) if is_usable_request_id(value.as_bytes()) => return request,
        (Some(value), _) => value.as_bytes(),
    };
    // Escaped and cut, so the log line holds no more of it than a usable id would.
    let shown: String = String::from_utf8_lossy(unusable)
        .chars()
        .take(MAX_REQUEST_ID_BYTES)
        .collect();
    let given_bytes = unusable.len();
    match new_request_id() {
        Some(replacement) => {
            tracing::info!(
                given = ?shown,
                given_bytes,
                replacement = replacement.to_str().unwrap_or_default(),
                "the client's x-request-id is not usable: replaced"
            );
            headers.insert(REQUEST_ID_HEADER, replacement);
        }
        // Left to the request-id layer to make one.
        None => {
            headers.remove(REQUEST_ID_HEADER);
        }
    }
    request
}

/// A UUID v7, as a header value.
fn new_request_id() -> Option<HeaderValue> {
    HeaderValue::from_str(&uuid::Uuid::now_v7().to_string()).ok()
}

/// Makes a UUID v7 request id: sortable by time, like every other id in Docket.
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _request: &http::Request<B>) -> Option<RequestId> {
        new_request_id().map(RequestId::new)
    }
}

/// A span per call. The request id is already set: the request-id layer runs first.
pub fn make_span(request: &http::Request<tonic::body::Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-");
    let span = super::rpc_span::server_span(request.uri().path(), request_id);
    crate::trace_context::continue_from_headers(&span, request.headers());
    crate::trace_context::record_trace_id(&span);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with_ids(ids: &[&[u8]]) -> http::Request<()> {
        let mut request = http::Request::new(());
        for id in ids {
            let value = HeaderValue::from_bytes(id).unwrap();
            request.headers_mut().append(REQUEST_ID_HEADER, value);
        }
        replace_unusable_request_id(request)
    }

    fn ids(request: &http::Request<()>) -> Vec<String> {
        request
            .headers()
            .get_all(REQUEST_ID_HEADER)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn a_short_safe_request_id_is_kept_and_any_other_replaced() {
        for good in ["0193a5c2-7e1f-7c3a-9f00-000000000001", "job.42_retry-3"] {
            assert_eq!(ids(&with_ids(&[good.as_bytes()])), [good]);
        }
        let long = "a".repeat(MAX_REQUEST_ID_BYTES + 1);
        for bad in [
            long.as_bytes(),
            b"id with spaces",
            b"id\tforged=field",
            "r\u{e9}sum\u{e9}".as_bytes(),
        ] {
            let replaced = ids(&with_ids(&[bad]));
            assert_eq!(replaced.len(), 1);
            assert!(uuid::Uuid::parse_str(&replaced[0]).is_ok(), "{replaced:?}");
        }
        let twice = ids(&with_ids(&[b"one", b"two"]));
        assert_eq!(twice.len(), 1);
        assert!(uuid::Uuid::parse_str(&twice[0]).is_ok());
        assert!(
            ids(&with_ids(&[])).is_empty(),
            "none given: the request-id layer makes one"
        );
    }
}
