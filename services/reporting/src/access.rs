//! Who may call each reporting method: the one table, reproduced in `docs/ACCESS.md`.

use docket_platform::auth::{Access, MethodAccess, Role};

use Role::{Analyst, Auditor, Investigator, Prosecutor, PublicReporter, Supervisor};

/// Live statistics, exports and reports: the office only. Answers suppressed one by one cannot
/// hold against a reader who may ask many overlapping questions, so the public reads releases.
const READERS: &[Role] = &[Analyst, Investigator, Prosecutor, Supervisor];

/// Releases: the office and the public reporter.
const RELEASE_READERS: &[Role] = &[
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
    ("CreateRelease", Access::Roles(&[Supervisor])),
    ("ListReleases", Access::Roles(RELEASE_READERS)),
    ("GetRelease", Access::Roles(RELEASE_READERS)),
    ("ExportRelease", Access::Roles(RELEASE_READERS)),
    ("RenderRelease", Access::Roles(RELEASE_READERS)),
    ("ReproduceRelease", Access::Roles(&[Supervisor, Auditor])),
    ("GetProjectionStatus", Access::Roles(&[Analyst, Supervisor])),
];
