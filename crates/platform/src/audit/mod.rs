//! The audit log each service keeps of itself: append-only and hash-chained.
//!
//! Entry *n* stores the SHA-256 of its own content together with the hash of entry *n − 1*, and
//! a one-row head records the last sequence and hash. Changing an entry breaks its own hash;
//! removing or reordering entries breaks the links or the numbering; removing the newest ones
//! leaves the head pointing past the end. [`append`] runs inside the transaction of the change it
//! records, so the two commit or fail together. The head row also serialises appends, keeping
//! the chain linear under concurrent writers on PostgreSQL.
//!
//! Refused calls of authenticated callers are recorded too, counted per subject, method and
//! minute ([`Refusals`]), so that probing shows without letting a flood grow the chain.
//!
//! What this cannot detect alone is a rewrite of the whole chain and its head by someone with
//! write access to the database; `VerifyAuditChain` returns the head hash so that operators can
//! keep copies elsewhere and compare, and a service with a time-stamping authority has its head
//! timestamped periodically ([`HeadTimestamps`]): a rewrite after a stamp loses the stamped
//! entry.

mod chain;
mod entity;
mod migration;
mod refusals;
mod service;

pub use chain::{AuditRecord, Verification, append, append_many, verify};
pub use migration::{AddAuditEntryCount, CreateAuditLog};
pub use refusals::Refusals;
pub use service::{AUDIT_ACCESS, AuditApi, HeadTimestamps};
