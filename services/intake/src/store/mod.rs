//! The intake database: allegations written in one transaction with their repeated parts, read
//! back as wire messages, and moved through triage with a conditional update so that two
//! concurrent decisions cannot both succeed.

mod query;
mod read;
mod submit;
mod triage;

use sea_orm::DatabaseConnection;

pub use query::AllegationQuery;
pub use submit::Submission;
pub use triage::TriageCommand;

/// Allegations in the intake database.
#[derive(Debug, Clone)]
pub struct AllegationStore {
    db: DatabaseConnection,
}

impl AllegationStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}
