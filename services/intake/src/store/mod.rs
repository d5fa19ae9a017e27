//! The intake database: allegations written in one transaction with their repeated parts, read
//! back as wire messages, and moved through triage with a conditional update so that two
//! concurrent decisions cannot both succeed. Every change appends to the audit chain in its own
//! transaction, and so does every read that shows a sealed identity in clear.

mod disclose;
mod query;
mod read;
mod status;
mod submit;
mod triage;

use docket_platform::events::EventLog;
use docket_platform::outbox::Dispatcher;
use docket_platform::sealing::Sealer;
use sea_orm::DatabaseConnection;

pub use query::AllegationQuery;
pub use submit::Submission;
pub use triage::TriageCommand;

/// Allegations in the intake database. Source identities are sealed on the way in and opened,
/// or redacted, on the way out according to the caller's role.
#[derive(Debug, Clone)]
pub struct AllegationStore {
    db: DatabaseConnection,
    sealer: Sealer,
    events: EventLog,
    dispatcher: Dispatcher,
}

impl AllegationStore {
    pub fn new(
        db: DatabaseConnection,
        sealer: Sealer,
        events: EventLog,
        dispatcher: Dispatcher,
    ) -> Self {
        Self {
            db,
            sealer,
            events,
            dispatcher,
        }
    }
}
