//! Refusing whoever guesses receipts: each wrong receipt from a client makes it wait longer
//! before its next receipt is checked, so that trying receipts at scale is hopeless while a
//! source that mistypes once or twice notices nothing.
//!
//! A client that asks again too soon is refused at once with the time it must wait, never kept
//! waiting: a sleeping call would hold a slot of the service's capacity, and a few hundred of
//! them would starve everyone else. Checks still in progress count as wrong until they are
//! known, so that a burst of concurrent guesses is bounded like a sequence of them.
//!
//! Clients are told apart by address (see `docket_platform::grpc::ClientAddress`); an IPv6
//! client by its /64, the least a single subscriber is usually given. What is remembered is
//! bounded: past [`MAX_CLIENTS`] the least recently seen are forgotten first.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Wrong receipts forgiven before any wait.
const FREE_FAILURES: u32 = 3;
/// The first wait, doubled with each further failure.
const BASE_DELAY: Duration = Duration::from_millis(250);
/// The longest wait.
const MAX_DELAY: Duration = Duration::from_secs(10);
/// How long a client's failures are remembered after its last attempt.
const MEMORY: Duration = Duration::from_secs(15 * 60);
/// Clients remembered at most, so that a flood of addresses cannot exhaust memory.
pub const MAX_CLIENTS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Attempts {
    /// Wrong receipts.
    failures: u32,
    /// Checks admitted and not yet answered.
    pending: u32,
    /// The last admission or failure.
    last: Instant,
}

/// Receipt checks per client; shared by every call of one intake host.
#[derive(Debug)]
pub struct ReceiptGuard {
    clients: Mutex<HashMap<IpAddr, Attempts>>,
    capacity: usize,
}

impl Default for ReceiptGuard {
    fn default() -> Self {
        Self::with_capacity(MAX_CLIENTS)
    }
}

/// A receipt check let through: say how it ended; dropped unsaid, it counts for nothing.
#[derive(Debug)]
pub struct Admitted {
    guard: Arc<ReceiptGuard>,
    client: IpAddr,
    settled: bool,
}

impl Admitted {
    /// The receipt matched nothing.
    pub fn failed(mut self) {
        self.settled = true;
        self.guard.settle(self.client, true);
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if !self.settled {
            self.guard.settle(self.client, false);
        }
    }
}

impl ReceiptGuard {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            clients: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Lets `client` have its receipt checked now, or says how long it must wait first.
    pub fn admit(self: &Arc<Self>, client: IpAddr) -> Result<Admitted, Duration> {
        let client = bucket(client);
        let now = Instant::now();
        let mut clients = self.lock();
        if !clients.contains_key(&client) && clients.len() >= self.capacity {
            evict(&mut clients, now, self.capacity);
        }
        let attempts = clients.entry(client).or_insert(Attempts {
            failures: 0,
            pending: 0,
            last: now,
        });
        if attempts.pending == 0 && now.duration_since(attempts.last) >= MEMORY {
            attempts.failures = 0;
        }
        let wait = delay_after(attempts.failures.saturating_add(attempts.pending));
        let ready = attempts.last + wait;
        if now < ready {
            return Err(ready - now);
        }
        attempts.pending = attempts.pending.saturating_add(1);
        attempts.last = now;
        Ok(Admitted {
            guard: Arc::clone(self),
            client,
            settled: false,
        })
    }

    fn settle(&self, client: IpAddr, failed: bool) {
        let mut clients = self.lock();
        // Forgotten meanwhile (evicted): nothing to settle.
        let Some(attempts) = clients.get_mut(&client) else {
            return;
        };
        attempts.pending = attempts.pending.saturating_sub(1);
        if failed {
            attempts.failures = attempts.failures.saturating_add(1);
            attempts.last = Instant::now();
        } else if attempts.failures == 0 && attempts.pending == 0 {
            clients.remove(&client);
        }
    }

    /// Clients remembered now.
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, Attempts>> {
        // A poisoned map only means a panic elsewhere mid-update; its counts are still usable.
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Makes room: forgets clients whose failures are past memory, then, if that is not enough, the
/// eighth least recently seen (at once, so that a flood pays for the sort rarely).
fn evict(clients: &mut HashMap<IpAddr, Attempts>, now: Instant, capacity: usize) {
    clients.retain(|_, a| a.pending > 0 || now.duration_since(a.last) < MEMORY);
    if clients.len() < capacity {
        return;
    }
    let mut by_age: Vec<(Instant, IpAddr)> = clients.iter().map(|(ip, a)| (a.last, *ip)).collect();
    by_age.sort_unstable();
    let excess = clients.len() + 1 - capacity;
    for (_, ip) in by_age.iter().take(excess.max(capacity / 8)) {
        clients.remove(ip);
    }
}

/// The unit a client is known by: its IPv4 address, or the /64 of its IPv6 address.
fn bucket(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        },
    }
}

/// The wait due after `failures` wrong receipts.
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

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_first_mistakes_cost_nothing_and_later_ones_a_refusal_with_the_wait() {
        let guard = Arc::new(ReceiptGuard::default());
        let (peer, other) = (ip("192.0.2.7"), ip("192.0.2.8"));
        for _ in 0..=FREE_FAILURES {
            guard.admit(peer).expect("free").failed();
        }
        let wait = guard.admit(peer).expect_err("refused");
        assert!(wait <= BASE_DELAY && wait > BASE_DELAY / 2, "{wait:?}");
        assert!(guard.admit(other).is_ok(), "only the guessing client waits");
    }

    #[test]
    fn concurrent_guesses_count_as_wrong_until_answered() {
        let guard = Arc::new(ReceiptGuard::default());
        let peer = ip("192.0.2.7");
        let held: Vec<Admitted> = (0..=FREE_FAILURES)
            .map(|_| guard.admit(peer).expect("free"))
            .collect();
        assert!(
            guard.admit(peer).is_err(),
            "a burst is bounded like a sequence"
        );
        // Right receipts, or checks cut short, count for nothing.
        drop(held);
        assert!(guard.admit(peer).is_ok());
    }

    #[test]
    fn an_ipv6_client_is_known_by_its_64() {
        let guard = Arc::new(ReceiptGuard::default());
        for n in 0..=FREE_FAILURES {
            guard
                .admit(ip(&format!("2001:db8:1:2::{n}")))
                .expect("free")
                .failed();
        }
        assert!(guard.admit(ip("2001:db8:1:2:ffff::9")).is_err());
        assert!(guard.admit(ip("2001:db8:1:3::1")).is_ok());
    }

    #[test]
    fn memory_is_bounded_and_the_least_recent_are_forgotten_first() {
        let guard = Arc::new(ReceiptGuard::with_capacity(64));
        let guesser = ip("198.51.100.1");
        for _ in 0..=FREE_FAILURES {
            guard.admit(guesser).expect("free").failed();
        }
        for n in 0..1_000u32 {
            let client = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            guard
                .admit(client)
                .expect("new clients are let in")
                .failed();
            assert!(guard.remembered() <= 64);
        }
        assert!(guard.admit(guesser).is_ok(), "forgotten, as the oldest");
    }
}
