//! Who may call each intake method: the one table, reproduced in `docs/ACCESS.md`. A method
//! missing here is denied to everyone, and a test walks every method with every role against it.

use docket_platform::auth::{Access, MethodAccess, Role};

use Role::{Analyst, IntakeOfficer, Investigator, Prosecutor, Service, Supervisor};

/// Roles that read allegations. Sealed source identities are shown in clear only to intake
/// officers, investigators and prosecutors (see `Role::sees_sealed_identities`).
const READERS: &[Role] = &[
    IntakeOfficer,
    Analyst,
    Investigator,
    Prosecutor,
    Supervisor,
    Service,
];
/// Roles that register allegations: officers, and partner systems calling service to service.
const SUBMITTERS: &[Role] = &[IntakeOfficer, Supervisor, Service];
/// Roles that triage.
const TRIAGERS: &[Role] = &[IntakeOfficer, Supervisor];

pub const INTAKE_ACCESS: &[MethodAccess] = &[
    ("SubmitAllegation", Access::Roles(SUBMITTERS)),
    ("GetAllegation", Access::Roles(READERS)),
    ("ListAllegations", Access::Roles(READERS)),
    ("StartReview", Access::Roles(TRIAGERS)),
    ("AcceptAllegation", Access::Roles(TRIAGERS)),
    ("RejectAllegation", Access::Roles(TRIAGERS)),
    ("MarkDuplicate", Access::Roles(TRIAGERS)),
    ("CheckAllegationStatus", Access::Public),
];
