//! The casualty register: victims known individually, each report (a person named in a case)
//! indexed for matching ([`index`]), and analysts' decisions on pairs of reports, from which
//! register entries follow: persons linked by confirmed matches are one entry, named by the
//! earliest person id among them. Matching proposes; only a decision links.
//!
//! Both live in memory, rebuilt from the database at start (`CaseStore::load`)
//! and changed after each commit. A decision holds [`Register::deciding`] from before its
//! transaction until the decisions in memory are replaced; every change of a case holds
//! [`Register::changing`] from before its transaction until after its commit. So a change of a
//! case either commits before a decision's transaction begins (and the decision, seeing it,
//! republishes the case under the new entries) or reads the decisions after they are replaced:
//! no case is ever published with the entries of before a decision after that decision.

mod index;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use index::{Index, Report};
use uuid::Uuid;

/// What an analyst decided about a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Confirmed,
    Rejected,
}

impl Decision {
    pub fn code(self) -> &'static str {
        match self {
            Decision::Confirmed => "confirmed",
            Decision::Rejected => "rejected",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "confirmed" => Some(Decision::Confirmed),
            "rejected" => Some(Decision::Rejected),
            _ => None,
        }
    }
}

/// A pair, the smaller id first.
pub fn pair(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    if a <= b { (a, b) } else { (b, a) }
}

/// The decisions in force, one per decided pair.
#[derive(Debug, Clone, Default)]
pub struct Decisions {
    current: HashMap<(Uuid, Uuid), Decision>,
    confirmed: HashMap<Uuid, BTreeSet<Uuid>>,
}

impl Decisions {
    /// Sets (or, with `None`, clears) the decision in force for the pair of `a` and `b`.
    pub fn set(&mut self, a: Uuid, b: Uuid, decision: Option<Decision>) {
        let key = pair(a, b);
        for (x, y) in [(a, b), (b, a)] {
            if let Some(links) = self.confirmed.get_mut(&x) {
                links.remove(&y);
                if links.is_empty() {
                    self.confirmed.remove(&x);
                }
            }
        }
        match decision {
            Some(decision) => {
                self.current.insert(key, decision);
                if decision == Decision::Confirmed {
                    self.confirmed.entry(a).or_default().insert(b);
                    self.confirmed.entry(b).or_default().insert(a);
                }
            }
            None => {
                self.current.remove(&key);
            }
        }
    }

    pub fn get(&self, a: Uuid, b: Uuid) -> Option<Decision> {
        self.current.get(&pair(a, b)).copied()
    }

    /// The persons of `person`'s register entry (`person` included).
    pub fn members(&self, person: Uuid) -> BTreeSet<Uuid> {
        let mut seen = BTreeSet::from([person]);
        let mut next = vec![person];
        while let Some(p) = next.pop() {
            for linked in self.confirmed.get(&p).into_iter().flatten() {
                if seen.insert(*linked) {
                    next.push(*linked);
                }
            }
        }
        seen
    }

    /// The register entry of `person`: the smallest (earliest, ids being UUID v7) person id of
    /// their entry.
    pub fn entry_of(&self, person: Uuid) -> Uuid {
        self.members(person).first().copied().unwrap_or(person)
    }
}

/// The register in memory, shared by every clone of the store.
#[derive(Debug, Default, Clone)]
pub struct Register {
    index: Arc<RwLock<Index>>,
    decisions: Arc<RwLock<Decisions>>,
    deciding: Arc<tokio::sync::RwLock<()>>,
}

impl Register {
    /// Reads the index. A poisoned lock means a writer panicked mid-change; the index is still
    /// whole (each change is one map operation), so reading on is safe.
    pub fn index(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn index_mut(&self) -> RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The decisions in force, as a copy that does not hold the lock.
    pub fn decisions(&self) -> Decisions {
        self.decisions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn entry_of(&self, person: Uuid) -> Uuid {
        self.decisions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .entry_of(person)
    }

    /// Replaces the decisions in force (after the commit that recorded the change).
    pub fn set_decisions(&self, decisions: Decisions) {
        *self.decisions.write().unwrap_or_else(|e| e.into_inner()) = decisions;
    }

    /// Held while a decision is made, published, committed and put in memory: one decision at
    /// a time, and no change of a case meanwhile.
    pub async fn deciding(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.deciding.write().await
    }

    /// Held by a change of a case from before its transaction until after its commit; changes
    /// run together, but not while a decision is made (see the module's documentation).
    pub async fn changing(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.deciding.read().await
    }
}

/// Every person of the entries of `persons` under either of two sets of decisions.
pub fn affected(before: &Decisions, after: &Decisions, persons: &[Uuid]) -> HashSet<Uuid> {
    persons
        .iter()
        .flat_map(|p| before.members(*p).into_iter().chain(after.members(*p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmed_pairs_make_one_entry_and_a_rejection_splits_it() {
        let [a, b, c] = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        let mut decisions = Decisions::default();
        decisions.set(b, a, Some(Decision::Confirmed));
        decisions.set(c, b, Some(Decision::Confirmed));
        assert_eq!(decisions.entry_of(c), a);
        assert_eq!(decisions.members(b).len(), 3);
        decisions.set(b, c, Some(Decision::Rejected));
        assert_eq!(decisions.entry_of(c), c);
        assert_eq!(decisions.get(c, b), Some(Decision::Rejected));
        decisions.set(b, c, None);
        assert_eq!(decisions.get(c, b), None);
        assert_eq!(decisions.entry_of(b), a);
    }
}
