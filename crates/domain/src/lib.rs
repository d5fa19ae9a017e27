//! The pure domain of Docket: value types that are valid by construction, the triage lifecycle
//! of allegations and the vocabulary shared by every service.
//!
//! Nothing here does I/O or knows about gRPC or databases. Values enter through `parse`-style
//! constructors that report every problem at once as [`Violations`], with field paths relative to
//! the value being parsed; the edge (the proto crate) prefixes them with the request's own paths.

mod coded;
mod text;
mod violations;

pub mod allegation;
pub mod case;
pub mod casualty;
pub mod content;
pub mod evidence;
pub mod history;
pub mod incident;
pub mod party;

pub use coded::UnknownCode;
pub use violations::{FieldViolation, Violations};
