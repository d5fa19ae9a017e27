//! The tower layer that authenticates each call and checks its role against the service's table
//! before the call reaches the service.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::{Either, Ready, ready};
use tonic::Status;
use tower::{Layer, Service};

use super::{Access, AccessPolicy, CallContext, Caller, TokenRejected, TokenVerifier};
use crate::audit::Refusals;
use crate::grpc::REQUEST_ID_HEADER;

/// Authenticates and authorises every call; see the module documentation.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    verifier: Arc<TokenVerifier>,
    policy: Arc<AccessPolicy>,
    refusals: Refusals,
}

impl AuthLayer {
    /// The layer; calls it refuses to authenticated callers are counted in `refusals`, for the
    /// service to write to its audit chain (see [`Refusals`]).
    pub fn new(verifier: Arc<TokenVerifier>, policy: AccessPolicy, refusals: Refusals) -> Self {
        Self {
            verifier,
            policy: Arc::new(policy),
            refusals,
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            verifier: Arc::clone(&self.verifier),
            policy: Arc::clone(&self.policy),
            refusals: self.refusals.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps around a host's routes.
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    verifier: Arc<TokenVerifier>,
    policy: Arc<AccessPolicy>,
    refusals: Refusals,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for AuthService<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<S::Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        match self.admit(&request) {
            Ok(context) => {
                request.extensions_mut().insert(context);
                Either::Right(self.inner.call(request))
            }
            Err(status) => Either::Left(ready(Ok(status.into_http()))),
        }
    }
}

impl<S> AuthService<S> {
    /// The call's context if it may go on, or the status that refuses it.
    fn admit<B>(&self, request: &http::Request<B>) -> Result<CallContext, Status> {
        let method = request.uri().path().to_owned();
        let request_id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let access = self.policy.access(&method);
        if access == Some(Access::Public) {
            return Ok(CallContext {
                caller: None,
                method,
                request_id,
            });
        }
        let caller = self.authenticate(request).map_err(|reason| {
            // The reason stays in the log: a client probing tokens learns nothing from it.
            tracing::info!(%reason, %method, "unauthenticated call refused");
            // Not audited: the sender is unknown (see `audit::refusals`).
            metrics::counter!("docket_calls_refused_total", "code" => "unauthenticated")
                .increment(1);
            Status::unauthenticated("a valid bearer token is required")
        })?;
        match access {
            Some(Access::Roles(roles)) if roles.contains(&caller.role) => Ok(CallContext {
                caller: Some(caller),
                method,
                request_id,
            }),
            Some(Access::Roles(_) | Access::Public) | None => {
                tracing::warn!(subject = %caller.subject, role = %caller.role, %method, "permission denied");
                let reason = format!("the role {} may not call {method}", caller.role);
                self.refusals
                    .record(&caller, &method, &request_id, "PERMISSION_DENIED", &reason);
                Err(Status::permission_denied(reason))
            }
        }
    }

    fn authenticate<B>(&self, request: &http::Request<B>) -> Result<Caller, TokenRejected> {
        let header = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .ok_or(TokenRejected::Missing)?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(TokenRejected::Malformed)?;
        self.verifier.verify(token)
    }
}
