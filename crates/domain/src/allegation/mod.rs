//! Allegations: what a source reported, and its triage from receipt to a decision.
//!
//! A [`NewAllegation`] is a submission that passed every check that needs no storage; the
//! deployment's party list is checked by [`NewAllegation::check_parties`]. Triage is the small
//! state machine in [`status`].

mod content;
mod reference;
mod status;

pub use content::{
    Channel, ContactDetails, LanguageTag, Narrative, NewAllegation, NewAllegationInput,
    PeriodInput, PerpetratorInput, RequestId, Source, SourceInput, SourceName, SourceUrl,
    VictimGroupInput,
};
pub use reference::AllegationReference;
pub use status::{
    AllegationStatus, IllegalTriage, RejectionReason, ReviewerName, SourceMessage, TriageAction,
    check_correctable,
};
