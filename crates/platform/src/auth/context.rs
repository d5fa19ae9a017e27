//! What a service learns about each call from the layers in front of it.

use super::Role;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's subject: a person's or a system's name.
    pub subject: String,
    pub role: Role,
}

/// Who called which method, under which request id. The auth layer puts one in every request's
/// extensions; for public methods `caller` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    pub caller: Option<Caller>,
    /// The full gRPC path, `/package.Service/Method`.
    pub method: String,
    /// The call's `x-request-id`.
    pub request_id: String,
}

impl CallContext {
    /// The context the auth layer attached to `request`.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<&CallContext> {
        request.extensions().get::<CallContext>()
    }

    /// The caller's subject, or `anonymous` for public methods.
    pub fn subject(&self) -> &str {
        self.caller
            .as_ref()
            .map_or("anonymous", |c| c.subject.as_str())
    }

    /// The caller's role name, or `none` for public methods.
    pub fn role_name(&self) -> &str {
        self.caller.as_ref().map_or("none", |c| c.role.as_str())
    }

    /// Whether the caller may see sealed identities in clear.
    pub fn sees_sealed_identities(&self) -> bool {
        self.caller
            .as_ref()
            .is_some_and(|c| c.role.sees_sealed_identities())
    }
}
