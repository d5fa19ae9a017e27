//! Who may call what.
//!
//! Every call but health, reflection and the few public methods carries
//! `authorization: Bearer <JWT>`. [`TokenVerifier`] checks signature, algorithm, expiry,
//! not-before, issuer and audience; [`AccessPolicy`] holds, per service, the one table of which
//! roles may call each method (anything not in it is denied); [`AuthLayer`] applies both before a
//! call reaches its service and hands the service a [`CallContext`] naming the caller.

mod context;
mod credentials;
mod layer;
mod policy;
mod role;
mod token;

pub use context::{CallContext, Caller};
pub use credentials::ServiceCredentials;
pub use layer::AuthLayer;
pub use policy::{Access, AccessPolicy, AccessTables, MethodAccess};
pub use role::{Role, UnknownRole};
pub use token::{AuthSetupError, Claims, TokenIssuer, TokenRejected, TokenVerifier};
