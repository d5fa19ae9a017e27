//! Who figures are for, read the same way by every reporting method: the request names the
//! audience, and a `public_reporter` token may only name the public one.

use docket_domain::Violations;
use docket_platform::auth::{CallContext, Role};
use docket_proto::docket::reporting::v1 as pb;
use tonic::Request;

use crate::error::ReportingError;

/// Whether the audience `raw` is the public one; records a violation when it is not given.
pub fn parse(raw: i32, v: &mut Violations) -> bool {
    match pb::Audience::try_from(raw) {
        Ok(pb::Audience::Internal) => false,
        Ok(pb::Audience::Public) => true,
        Ok(pb::Audience::Unspecified) | Err(_) => {
            v.add(
                "audience",
                "is required: AUDIENCE_INTERNAL or AUDIENCE_PUBLIC",
            );
            true
        }
    }
}

/// Whether the caller of `request` may see only the public audience.
pub fn public_only<T>(request: &Request<T>) -> bool {
    CallContext::of(request)
        .and_then(|c| c.caller.as_ref())
        .is_none_or(|caller| caller.role == Role::PublicReporter)
}

/// Refuses a public-only caller who asks for the internal audience.
pub fn check(public_only: bool, public: bool) -> Result<(), ReportingError> {
    if public_only && !public {
        return Err(ReportingError::PublicOnly);
    }
    Ok(())
}
