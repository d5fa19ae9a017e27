//! Refused calls of authenticated callers, in the audit chain.
//!
//! A caller with a valid token calling what its role may not call is someone an auditor wants to
//! see: a stolen token tried against other methods, an insider probing. Each refusal is counted
//! in memory and written once per window (a minute): one entry per subject, role, method and
//! outcome, whose `count` says how many calls it stands for, with the first call's request id
//! and the window's times in its action. A flood thus adds at most one entry per key and minute,
//! and the keys of one window are bounded too ([`MAX_KEYS`]): past them, refusals are counted in
//! one entry with subject, role and method `*`. What is pending is written when the service
//! shuts down; a crash loses at most one window of counts (the log and the metric
//! `docket_calls_refused_total` still saw them).
//!
//! Calls with no valid token are not written to the chain: whoever sends them is unknown, so an
//! entry would say nothing about anyone, and anyone could grow the chain with them. They are
//! counted by `docket_calls_refused_total{code="unauthenticated"}` and logged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::DatabaseConnection;

use super::{AuditRecord, append_many};
use crate::auth::Caller;
use crate::shutdown::ShutdownSignal;

/// How long refusals are counted before they are written.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Distinct subject, role, method and outcome keys counted in one window; past them, refusals
/// are counted together under `*`.
pub const MAX_KEYS: usize = 256;
/// The longest method name kept: a caller may send any path.
const MAX_METHOD_CHARS: usize = 200;
/// The longest subject kept.
const MAX_SUBJECT_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    subject: String,
    role: String,
    method: String,
    outcome: &'static str,
}

#[derive(Debug, Clone)]
struct Tally {
    count: u64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    request_id: String,
    reason: String,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.count = self.count.saturating_add(other.count);
        if other.first < self.first {
            self.first = other.first;
            self.request_id = other.request_id;
            self.reason = other.reason;
        }
        self.last = self.last.max(other.last);
    }
}

/// The refusals counted and not yet written; cheap to clone (one shared tally).
#[derive(Debug, Clone, Default)]
pub struct Refusals {
    pending: Arc<Mutex<HashMap<Key, Tally>>>,
}

impl Refusals {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a call by `caller` to `method` refused with `outcome` (a gRPC code name such as
    /// `PERMISSION_DENIED`) because of `reason`.
    pub fn record(
        &self,
        caller: &Caller,
        method: &str,
        request_id: &str,
        outcome: &'static str,
        reason: &str,
    ) {
        metrics::counter!("docket_calls_refused_total", "code" => outcome.to_ascii_lowercase())
            .increment(1);
        let key = Key {
            subject: truncated(&caller.subject, MAX_SUBJECT_CHARS),
            role: caller.role.as_str().to_owned(),
            method: truncated(method, MAX_METHOD_CHARS),
            outcome,
        };
        let now = Utc::now();
        let tally = Tally {
            count: 1,
            first: now,
            last: now,
            request_id: request_id.to_owned(),
            reason: reason.to_owned(),
        };
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        add(&mut pending, key, tally);
    }

    /// Writes what is pending every [`WINDOW`] until `shutdown`, then once more.
    pub async fn write_until(self, db: DatabaseConnection, shutdown: ShutdownSignal) {
        self.write_every(db, shutdown, WINDOW).await;
    }

    /// Runs `serving` (a service draining its calls after `shutdown`) while writing what is
    /// pending every [`WINDOW`]; once it has returned, writes what was counted meanwhile and
    /// returns what it returned. Dropped (a crash), it writes nothing more.
    pub async fn write_while<F: std::future::Future>(
        self,
        db: DatabaseConnection,
        shutdown: ShutdownSignal,
        serving: F,
    ) -> F::Output {
        let periodic = self.clone().write_until(db.clone(), shutdown);
        let (served, ()) = tokio::join!(serving, periodic);
        self.write(&db).await;
        served
    }

    async fn write_every(self, db: DatabaseConnection, shutdown: ShutdownSignal, every: Duration) {
        let stop = shutdown.wait();
        tokio::pin!(stop);
        loop {
            let stopping = tokio::select! {
                () = &mut stop => true,
                () = tokio::time::sleep(every) => false,
            };
            self.write(&db).await;
            if stopping {
                return;
            }
        }
    }

    /// Writes every pending tally, one entry each, in one transaction; on failure they are
    /// counted again for the next try.
    pub async fn write(&self, db: &DatabaseConnection) {
        let taken: Vec<(Key, Tally)> = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            let mut taken: Vec<_> = pending.drain().collect();
            taken.sort_by_key(|(_, tally)| tally.first);
            taken
        };
        if taken.is_empty() {
            return;
        }
        let records: Vec<AuditRecord> = taken.iter().map(|(k, t)| record(k, t)).collect();
        let written = async {
            let txn = crate::db::begin_write(db).await?;
            append_many(&txn, &records).await?;
            txn.commit().await
        }
        .await;
        if let Err(error) = written {
            tracing::warn!(%error, entries = records.len(), "refused calls cannot be audited now; keeping their counts for the next try");
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for (key, tally) in taken {
                add(&mut pending, key, tally);
            }
        }
    }
}

/// Adds `tally` under `key`, or under the overflow key when the window has no room for it.
fn add(pending: &mut HashMap<Key, Tally>, key: Key, tally: Tally) {
    if let Some(existing) = pending.get_mut(&key) {
        existing.merge(tally);
        return;
    }
    // One key is kept back for the overflow, so that there are never more than MAX_KEYS.
    let key = if pending.len() + 1 < MAX_KEYS {
        key
    } else {
        Key {
            subject: "*".to_owned(),
            role: "*".to_owned(),
            method: "*".to_owned(),
            outcome: key.outcome,
        }
    };
    match pending.get_mut(&key) {
        Some(existing) => existing.merge(tally),
        None => {
            pending.insert(key, tally);
        }
    }
}

fn record(key: &Key, tally: &Tally) -> AuditRecord {
    let many = if key.subject == "*" {
        "refused calls beyond the distinct callers and methods one window audits apart; "
    } else {
        ""
    };
    AuditRecord {
        subject: key.subject.clone(),
        role: key.role.clone(),
        method: key.method.clone(),
        target_ids: Vec::new(),
        outcome: key.outcome.to_owned(),
        request_id: tally.request_id.clone(),
        action: format!(
            "{many}refused {} call{} from {} to {}: {}",
            tally.count,
            if tally.count == 1 { "" } else { "s" },
            tally.first.to_rfc3339_opts(SecondsFormat::Secs, true),
            tally.last.to_rfc3339_opts(SecondsFormat::Secs, true),
            tally.reason
        ),
        count: tally.count,
    }
}

fn truncated(value: &str, chars: usize) -> String {
    value.chars().take(chars).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::Role;

    fn caller(subject: &str) -> Caller {
        Caller {
            subject: subject.to_owned(),
            role: Role::Analyst,
        }
    }

    fn pending(refusals: &Refusals) -> HashMap<Key, Tally> {
        refusals
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    #[test]
    fn repeated_refusals_are_one_tally_with_a_count() {
        let refusals = Refusals::new();
        for i in 0..1_000 {
            refusals.record(
                &caller("a"),
                "/x.X/Write",
                &i.to_string(),
                "PERMISSION_DENIED",
                "no",
            );
        }
        refusals.record(&caller("a"), "/x.X/Read", "r", "PERMISSION_DENIED", "no");
        let pending = pending(&refusals);
        assert_eq!(pending.len(), 2);
        let write = pending
            .iter()
            .find(|(k, _)| k.method == "/x.X/Write")
            .unwrap()
            .1;
        assert_eq!(write.count, 1_000);
        assert_eq!(write.request_id, "0", "the first call's request id");
    }

    #[test]
    fn the_keys_of_a_window_are_bounded() {
        let refusals = Refusals::new();
        for i in 0..10_000 {
            refusals.record(
                &caller(&format!("s{i}")),
                &format!("/x/{i}"),
                "",
                "PERMISSION_DENIED",
                "no",
            );
        }
        let pending = pending(&refusals);
        assert_eq!(pending.len(), MAX_KEYS);
        let total: u64 = pending.values().map(|t| t.count).sum();
        assert_eq!(total, 10_000, "every refusal is counted");
        let overflow = pending.iter().find(|(k, _)| k.subject == "*").unwrap().1;
        assert_eq!(overflow.count, 10_000 - (MAX_KEYS as u64 - 1));
    }
}
