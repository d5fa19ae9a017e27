//! Who figures are for, read the same way by every reporting method: the request names the
//! audience, and a `public_reporter` token may only name the public one.

use docket_domain::Violations;
use docket_platform::auth::{CallContext, Role};
use docket_proto::docket::reporting::v1 as pb;
use tonic::{Request, Status};

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

/// `PERMISSION_DENIED` when a public-only caller asks for the internal audience.
pub fn check(public_only: bool, public: bool) -> Result<(), Status> {
    if public_only && !public {
        return Err(Status::permission_denied(
            "a public reporter may only ask for the public audience (AUDIENCE_PUBLIC)",
        ));
    }
    Ok(())
}
