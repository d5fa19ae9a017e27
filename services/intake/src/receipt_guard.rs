//! Slowing down whoever guesses receipts: each wrong receipt from an address makes that address
//! wait longer before its next answer, so that trying receipts at scale is hopeless while a
//! source that mistypes once or twice notices nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong receipts forgiven before any delay.
const FREE_FAILURES: u32 = 3;
/// The first delay, doubled with each further failure.
const BASE_DELAY: Duration = Duration::from_millis(250);
/// The longest delay.
const MAX_DELAY: Duration = Duration::from_secs(10);
/// How long an address's failures are remembered after its last one.
const MEMORY: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered at most, so that a flood of addresses cannot exhaust memory.
const MAX_ADDRESSES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failed receipt checks per address.
#[derive(Debug, Default)]
pub struct ReceiptGuard {
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

impl ReceiptGuard {
    /// How long `peer` must wait before its receipt is checked.
    pub fn delay(&self, peer: IpAddr) -> Duration {
        let now = Instant::now();
        let failures = self.lock();
        match failures.get(&peer) {
            Some(f) if now.duration_since(f.last) < MEMORY => delay_after(f.count),
            _ => Duration::ZERO,
        }
    }

    /// Records a wrong receipt from `peer`.
    pub fn failed(&self, peer: IpAddr) {
        let now = Instant::now();
        let mut failures = self.lock();
        if failures.len() >= MAX_ADDRESSES {
            failures.retain(|_, f| now.duration_since(f.last) < MEMORY);
        }
        if failures.len() >= MAX_ADDRESSES {
            // Under a flood from this many addresses, everyone starts again from the worst.
            failures.clear();
        }
        let entry = failures.entry(peer).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.duration_since(entry.last) >= MEMORY {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        // A poisoned map only means a panic elsewhere mid-update; its counts are still usable.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn delay_after(failures: u32) -> Duration {
    match failures.checked_sub(FREE_FAILURES + 1) {
        None => Duration::ZERO,
        Some(extra) => BASE_DELAY
            .checked_mul(2u32.saturating_pow(extra))
            .map_or(MAX_DELAY, |d| d.min(MAX_DELAY)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_mistakes_cost_nothing_and_later_ones_ever_more() {
        let guard = ReceiptGuard::default();
        let peer: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        for _ in 0..FREE_FAILURES {
            guard.failed(peer);
        }
        assert_eq!(guard.delay(peer), Duration::ZERO);
        guard.failed(peer);
        assert_eq!(guard.delay(peer), BASE_DELAY);
        guard.failed(peer);
        assert_eq!(guard.delay(peer), BASE_DELAY * 2);
        for _ in 0..40 {
            guard.failed(peer);
        }
        assert_eq!(guard.delay(peer), MAX_DELAY);
        assert_eq!(
            guard.delay(other),
            Duration::ZERO,
            "only the guessing address waits"
        );
    }
}
