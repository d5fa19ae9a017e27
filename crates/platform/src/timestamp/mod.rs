//! Trusted time: RFC 3161 timestamps from the time-stamping authority (TSA) in a service's
//! settings (`<service>.timestamping`), proving that a SHA-256 existed no later than the
//! authority's time. Every service needs it for its audit chain's head; intake also for each
//! evidence file.
//!
//! [`TrustedTime`] asks the authority ([`tsp::query`]), verifies the token it answers
//! ([`tsp::verify`]) and only then stores it, with the nonce it answers, in the service's own
//! `trusted_timestamps` table, keyed by what was stamped (`subject_kind`, `subject`); it verifies
//! a stored token again, against the CA configured now, whenever one is shown. [`heads`] stamps
//! the audit chain's head periodically and shows the latest stamp in `VerifyAuditChain`
//! ([`AuditHeads`], the [`crate::audit::HeadTimestamps`] of every service with an authority).
//! Without an authority configured nothing is asked and nothing else changes.
//!
//! Only SHA-256 hashes and a random nonce reach the authority, never a sealed value (DESIGN.md,
//! "Trust"): it learns a hash and nothing else.

mod heads;
mod migration;
mod trusted;
pub mod tsp;

pub use heads::{AUDIT_HEAD, AuditHeads, HeadStampError, audit_head, follow, stamp_head};
pub use migration::CreateTrustedTimestamps;
pub use trusted::{AskError, Granted, Stored, TimestampingSetupError, TrustedTime, digest_bytes};
