//! Each service's ordered event stream, for the others to follow.
//!
//! Events are appended inside the transaction of the change they describe. Their sequence comes
//! from a one-row head updated in that transaction, which holds its row lock until commit: so
//! transactions that append are serialised, and event *n* commits only after event *n − 1*. A
//! reader that asks for everything after the last sequence it applied therefore never skips an
//! event, whatever the commit timing of concurrent writers on PostgreSQL (the trap of sequence
//! numbers handed out before commit and made visible out of order). A rolled-back transaction
//! gives its number back, so there are no gaps either.

mod entity;
mod log;
mod migration;
mod service;

pub use log::{EventLog, append, append_many};
pub use migration::CreateEventLog;
pub use service::{EVENT_ACCESS, EventApi};
