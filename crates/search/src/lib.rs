//! Full-text search, shared by intake (allegations) and case management (cases).
//!
//! Each service keeps its own index of its own records ([`SearchIndex`]), a projection fed by its
//! event stream ([`follow`]), and answers its own search call: narratives stay in intake and case
//! texts in case management, and neither is ever sent to reporting, which also serves the public.
//! A record becomes an [`Indexed`] document (never a sealed value); [`Live`] writes and asks the
//! tantivy index; [`analysis`] holds the analyzers of each language and the highlights; [`fold`]
//! the script-independent key that lets "Xocalı", "Ходжалы" and "Khojaly" find one another;
//! [`request`] the checks every search request shares.

mod analysis;
mod collect;
pub mod fold;
mod follow;
pub mod geo;
mod index;
mod place;
pub mod request;

pub use analysis::primary;
pub use follow::{Page, SearchError, SearchIndex, Source};
pub use index::{Ask, COUNT_CAP, Found, Indexed, Live, Total, UNDETERMINED};
pub use place::Whereabouts;
