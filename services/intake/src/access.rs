//! Who may call each intake method: the one table, reproduced in `docs/ACCESS.md`. A method
//! missing here is denied to everyone, and a test walks every method with every role against it.

use docket_platform::auth::{Access, MethodAccess, Role};

use Role::{Analyst, Auditor, IntakeOfficer, Investigator, Prosecutor, Service, Supervisor};

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
/// Roles that triage, and correct or reopen what is in triage: intake keeps the record of what
/// came in, so its officers (and their supervisors) are the ones who put it right.
const TRIAGERS: &[Role] = &[IntakeOfficer, Supervisor];
/// Roles that read what was changed in an allegation and why: whoever reads allegations, except
/// the `service` role, which delivers and checks allegations but has no use for their history.
const HISTORY_READERS: &[Role] = &[IntakeOfficer, Analyst, Investigator, Prosecutor, Supervisor];

/// Roles that see deliveries intake gave up on and decide whether to try again or drop them.
const DEAD_LETTER_KEEPERS: &[Role] = &[Supervisor];

/// Roles that bring evidence in.
const UPLOADERS: &[Role] = &[IntakeOfficer, Analyst, Investigator, Supervisor, Service];
/// Roles that read evidence files.
const EXAMINERS: &[Role] = &[IntakeOfficer, Analyst, Investigator, Prosecutor, Supervisor];
/// Roles that read evidence records and their custody; auditors follow the chain of custody.
const CUSTODY_READERS: &[Role] = &[
    IntakeOfficer,
    Analyst,
    Investigator,
    Prosecutor,
    Supervisor,
    Auditor,
    Service,
];
/// Roles that search allegations and look for duplicates: the office's staff, not the
/// `service` role (partner systems submit, they do not browse) and not the public.
const SEARCHERS: &[Role] = &[IntakeOfficer, Analyst, Investigator, Prosecutor, Supervisor];
/// Roles that re-verify stored files.
const VERIFIERS: &[Role] = &[Analyst, Supervisor];
/// Roles that judge the authenticity of content, before or after any case exists.
const ASSESSORS: &[Role] = &[Analyst, Investigator];
/// Who records links to cases in the chain of custody: case management alone, from its outbox.
const CASE_LINKERS: &[Role] = &[Service];
/// Roles that export an item's signed custody report for disclosure: those who build and try
/// cases, and auditors, who follow the chain of custody.
const DISCLOSERS: &[Role] = &[Investigator, Prosecutor, Supervisor, Auditor];
/// Roles that hand evidence over.
const TRANSFERRERS: &[Role] = &[Investigator, Prosecutor, Supervisor];

pub const INTAKE_ACCESS: &[MethodAccess] = &[
    ("SubmitAllegation", Access::Roles(SUBMITTERS)),
    ("GetAllegation", Access::Roles(READERS)),
    ("ListAllegations", Access::Roles(READERS)),
    ("StartReview", Access::Roles(TRIAGERS)),
    ("AcceptAllegation", Access::Roles(TRIAGERS)),
    ("RejectAllegation", Access::Roles(TRIAGERS)),
    ("MarkDuplicate", Access::Roles(TRIAGERS)),
    ("UpdateAllegation", Access::Roles(TRIAGERS)),
    ("ReopenAllegation", Access::Roles(TRIAGERS)),
    ("ListAllegationChanges", Access::Roles(HISTORY_READERS)),
    ("CheckAllegationStatus", Access::Public),
    ("ListDeadLetters", Access::Roles(DEAD_LETTER_KEEPERS)),
    ("RetryDeadLetter", Access::Roles(DEAD_LETTER_KEEPERS)),
    ("DropDeadLetter", Access::Roles(DEAD_LETTER_KEEPERS)),
    ("UploadEvidence", Access::Roles(UPLOADERS)),
    ("StartUpload", Access::Roles(UPLOADERS)),
    ("WriteUpload", Access::Roles(UPLOADERS)),
    ("GetUploadStatus", Access::Roles(UPLOADERS)),
    ("DownloadEvidence", Access::Roles(EXAMINERS)),
    ("GetEvidence", Access::Roles(CUSTODY_READERS)),
    ("ListEvidence", Access::Roles(CUSTODY_READERS)),
    ("VerifyEvidence", Access::Roles(VERIFIERS)),
    ("ListCustodyEvents", Access::Roles(CUSTODY_READERS)),
    ("RecordTransfer", Access::Roles(TRANSFERRERS)),
    ("RecordCaseCustody", Access::Roles(CASE_LINKERS)),
    ("ExportCustodyReport", Access::Roles(DISCLOSERS)),
    ("AssessContent", Access::Roles(ASSESSORS)),
    ("ListContentAssessments", Access::Roles(CUSTODY_READERS)),
    ("FindSimilarEvidence", Access::Roles(EXAMINERS)),
    ("ListReviewFlags", Access::Roles(EXAMINERS)),
    ("SearchAllegations", Access::Roles(SEARCHERS)),
    ("ListSimilarAllegations", Access::Roles(SEARCHERS)),
];
