//! Cases: what the office investigates once an allegation is accepted, with the rules that need
//! no storage.
//!
//! [`content`] is what a case says about the incident (parties, violations, casualty figures);
//! [`status`] is its lifecycle; [`crime`] the taxonomy and legal qualification; [`person`] the
//! suspects, victims and witnesses; [`charge`] the charges and their lifecycle; [`evidence`] the
//! authenticity assessments of linked evidence; [`allegation`] what intake delivers.

mod allegation;
mod charge;
mod content;
mod crime;
mod evidence;
mod person;
mod reference;
mod status;
mod victim;

pub use allegation::{ReceivedAllegation, join_victims};
pub use charge::{ChargeStatus, FiledDate, IllegalChargeMove};
pub use content::{CaseContent, CaseContentInput, CaseField, OfficerName, Summary, Title};
pub use crime::{CrimeType, CrimeTypeCode, Qualification, Taxonomy};
pub use evidence::{AssessmentMethod, EvidenceDescription, Examiner, Findings, Verdict};
pub use person::{
    ModeOfLiability, PersonName, PersonRole, PersonRoleDetails, PersonRoleInput, Position,
    ProtectiveMeasure, Pseudonym,
};
pub use reference::CaseReference;
pub use status::{CaseStatus, CloseReason, IllegalTransition, StatusNote, Transition};
pub use victim::{CasualtyDetails, CasualtyInput, HarmPlace};
