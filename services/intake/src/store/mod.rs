//! The intake database: allegations written in one transaction with their repeated parts, read
//! back as wire messages, and moved through triage with a conditional update so that two
//! concurrent decisions cannot both succeed. Every change appends to the audit chain in its own
//! transaction, and so does every read that shows a sealed identity in clear.

mod correct;
mod dead_letters;
mod disclose;
mod fingerprint;
mod history;
mod query;
pub(crate) mod read;
mod status;
mod submit;
mod triage;

use chrono::{DateTime, SubsecRound, Utc};
use docket_platform::events::EventLog;
use docket_platform::outbox::Dispatcher;
use docket_platform::sealing::Sealer;
use sea_orm::DatabaseConnection;

pub use correct::{CorrectedField, Correction};
pub use dead_letters::DeadLetterDecision;
pub use fingerprint::MessageDigest;
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
    /// Where submissions queue to be committed in batches; see [`submit`].
    submissions: Option<submit::Queue>,
}

impl AllegationStore {
    /// The store, and the task that commits its submissions (which ends when the last clone
    /// of the store is dropped). Call inside the runtime.
    /// The database, for the lookups of references (see `request::reference`).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn new(
        db: DatabaseConnection,
        sealer: Sealer,
        events: EventLog,
        dispatcher: Dispatcher,
    ) -> Self {
        let committer = Self {
            db,
            sealer,
            events,
            dispatcher,
            submissions: None,
        };
        let submissions = Some(submit::Queue::start(committer.clone()));
        Self {
            submissions,
            ..committer
        }
    }
}

/// Now, to the microsecond that PostgreSQL keeps, so that what is read back equals what was
/// written on either database.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
