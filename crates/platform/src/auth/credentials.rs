//! The token a service presents when it calls another Docket service.
//!
//! In development the service mints its own short-lived `service` token with the development
//! secret. In production it reads the token the office's identity provider issued it from
//! `auth.service_token_file`, again on every call, so that a rotated token is picked up without
//! a restart.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use jsonwebtoken::get_current_timestamp;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::{Request, Status};

use super::{AuthSetupError, Role, TokenIssuer};
use crate::settings::{Mode, Settings};

/// How long a minted service token lives, and how long before its end a new one is minted.
const MINTED_LIFETIME: Duration = Duration::from_secs(15 * 60);
const RENEW_BEFORE: u64 = 60;

enum Source {
    Minted {
        issuer: TokenIssuer,
        subject: String,
        current: Mutex<Option<(String, u64)>>,
    },
    File(PathBuf),
}

/// A service's credentials for outgoing calls; cheap to clone into interceptors.
#[derive(Clone)]
pub struct ServiceCredentials(std::sync::Arc<Source>);

impl std::fmt::Debug for ServiceCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_ref() {
            Source::Minted { subject, .. } => write!(f, "ServiceCredentials(minted for {subject})"),
            Source::File(path) => write!(f, "ServiceCredentials({})", path.display()),
        }
    }
}

impl ServiceCredentials {
    /// The credentials of the service named `subject` (`intake`, …).
    pub fn from_settings(settings: &Settings, subject: &str) -> Result<Self, AuthSetupError> {
        let source = match (&settings.auth.service_token_file, settings.mode) {
            (Some(path), _) => Source::File(path.clone()),
            (None, Mode::Development) => Source::Minted {
                issuer: TokenIssuer::development(settings)?,
                subject: subject.to_owned(),
                current: Mutex::new(None),
            },
            (None, Mode::Production) => return Err(AuthSetupError::NoServiceToken),
        };
        Ok(Self(std::sync::Arc::new(source)))
    }

    /// The bearer token to send now.
    pub fn token(&self) -> Result<String, AuthSetupError> {
        match self.0.as_ref() {
            Source::File(path) => std::fs::read_to_string(path)
                .map(|token| token.trim().to_owned())
                .map_err(|source| AuthSetupError::Read {
                    path: path.clone(),
                    source,
                }),
            Source::Minted {
                issuer,
                subject,
                current,
            } => {
                let now = get_current_timestamp();
                let mut current = current
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Some((token, expires)) = current.as_ref()
                    && now + RENEW_BEFORE < *expires
                {
                    return Ok(token.clone());
                }
                let token = issuer.mint(subject, Role::Service, MINTED_LIFETIME)?;
                *current = Some((token.clone(), now + MINTED_LIFETIME.as_secs()));
                Ok(token)
            }
        }
    }
}

impl Interceptor for ServiceCredentials {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let token = self.token().map_err(|error| {
            tracing::error!(%error, "no service token for an outgoing call");
            Status::unauthenticated("this service has no usable service token")
        })?;
        let value: MetadataValue<Ascii> = format!("Bearer {token}").parse().map_err(|_| {
            Status::unauthenticated("the service token is not a valid header value")
        })?;
        request.metadata_mut().insert("authorization", value);
        // Calls between the services continue the caller's trace.
        crate::trace_context::inject_into(request.metadata_mut());
        Ok(request)
    }
}
