//! Who may call each reporting method: the one table, reproduced in `docs/ACCESS.md`.

use docket_platform::auth::{Access, MethodAccess, Role};

use Role::{Analyst, Investigator, Prosecutor, PublicReporter, Supervisor};

/// Statistics, exports and reports: the office, and the public reporter (public audience only,
/// checked by the service).
const READERS: &[Role] = &[
    Analyst,
    Investigator,
    Prosecutor,
    Supervisor,
    PublicReporter,
];

pub const REPORTING_ACCESS: &[MethodAccess] = &[
    ("QueryStatistics", Access::Roles(READERS)),
    ("ExportCases", Access::Roles(READERS)),
    ("RenderReport", Access::Roles(READERS)),
    ("GetProjectionStatus", Access::Roles(&[Analyst, Supervisor])),
];
