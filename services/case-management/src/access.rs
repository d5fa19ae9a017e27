//! Who may call each case-management method: the one table, reproduced in `docs/ACCESS.md`. A
//! method missing here is denied to everyone, and a test walks every method with every role
//! against it.

use docket_platform::auth::{Access, MethodAccess, Role};

use Role::{
    Analyst, Auditor, IntakeOfficer, Investigator, Prosecutor, PublicReporter, Service, Supervisor,
};

/// Roles that read cases and their parts. Sealed witness identities are shown in clear only to
/// investigators and prosecutors (see `Role::sees_sealed_identities`).
const READERS: &[Role] = &[Analyst, Investigator, Prosecutor, Supervisor, Service];
/// Roles that open cases, change them, move them through the lifecycle, and add persons and
/// evidence: the people who build cases.
const CASE_BUILDERS: &[Role] = &[Investigator, Prosecutor, Supervisor];
/// Legal qualification and charges are the prosecutor's acts.
const PROSECUTORS: &[Role] = &[Prosecutor, Supervisor];
/// Authenticity is examined by analysts and investigators.
const EXAMINERS: &[Role] = &[Analyst, Investigator];
/// Roles that read what was changed in a case and why: those who read cases, except the
/// `service` role, which has no use for a case's history.
const HISTORY_READERS: &[Role] = &[Analyst, Investigator, Prosecutor, Supervisor];
/// Roles that keep the casualty register: analysts match reports of victims, and those who
/// build cases may too. Names are compared inside the service; no name is answered.
const REGISTER_KEEPERS: &[Role] = &[Analyst, Investigator, Prosecutor, Supervisor];
/// Only intake's dispatcher delivers accepted allegations and evidence registered to a case.
const DELIVERY: &[Role] = &[Service];
/// The taxonomy is published law, not case data: every role may read it.
const EVERYONE: &[Role] = &[
    IntakeOfficer,
    Analyst,
    Investigator,
    Prosecutor,
    Supervisor,
    Auditor,
    PublicReporter,
    Service,
];

pub const CASE_ACCESS: &[MethodAccess] = &[
    ("ReceiveAllegation", Access::Roles(DELIVERY)),
    ("ReceiveEvidence", Access::Roles(DELIVERY)),
    ("OpenCase", Access::Roles(CASE_BUILDERS)),
    ("GetCase", Access::Roles(READERS)),
    ("GetCaseDossier", Access::Roles(READERS)),
    ("ListCases", Access::Roles(READERS)),
    ("SearchCases", Access::Roles(READERS)),
    ("UpdateCase", Access::Roles(CASE_BUILDERS)),
    ("TransitionCase", Access::Roles(CASE_BUILDERS)),
    ("ListCaseHistory", Access::Roles(READERS)),
    ("ListCaseChanges", Access::Roles(HISTORY_READERS)),
    ("ListCrimeTypes", Access::Roles(EVERYONE)),
    ("QualifyCase", Access::Roles(PROSECUTORS)),
    ("AddPerson", Access::Roles(CASE_BUILDERS)),
    ("UpdatePerson", Access::Roles(CASE_BUILDERS)),
    ("ListPersons", Access::Roles(READERS)),
    // Taking a person out of a case is building it, like adding one.
    ("RemovePerson", Access::Roles(CASE_BUILDERS)),
    ("ListCasualtyCandidates", Access::Roles(REGISTER_KEEPERS)),
    ("ConfirmCasualtyMatch", Access::Roles(REGISTER_KEEPERS)),
    ("RejectCasualtyMatch", Access::Roles(REGISTER_KEEPERS)),
    ("UndoCasualtyMatch", Access::Roles(REGISTER_KEEPERS)),
    ("FileCharge", Access::Roles(PROSECUTORS)),
    ("UpdateChargeStatus", Access::Roles(PROSECUTORS)),
    ("ListCharges", Access::Roles(READERS)),
    ("LinkEvidence", Access::Roles(CASE_BUILDERS)),
    ("UnlinkEvidence", Access::Roles(CASE_BUILDERS)),
    ("ListEvidence", Access::Roles(READERS)),
    ("RecordAssessment", Access::Roles(EXAMINERS)),
    ("ListAssessments", Access::Roles(READERS)),
];
