//! Limits on strangers: failed logins per account and per address in a one-minute window, and
//! concurrent connections per address.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked keys, expired windows are swept on the next write.
const SWEEP_ABOVE: usize = 4096;

/// Counts events per key in fixed one-minute windows.
#[derive(Debug)]
pub struct RateWindow<K> {
    counts: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K> Default for RateWindow<K> {
    fn default() -> Self {
        Self {
            counts: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> RateWindow<K> {
    /// Whether `key` has reached `limit` events in its current window.
    pub fn exceeded(&self, key: &K, limit: u32, now: Instant) -> bool {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts
            .get(key)
            .is_some_and(|(start, n)| now.duration_since(*start) < WINDOW && *n >= limit)
    }

    /// Records one event for `key`.
    pub fn record(&self, key: K, now: Instant) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() > SWEEP_ABOVE {
            counts.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = counts.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Forgets `key` (after a successful login).
    pub fn clear(&self, key: &K) {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// Concurrent connections per address; a slot is held by a guard and freed when it drops.
#[derive(Debug, Default)]
pub struct ConnectionSlots {
    open: Mutex<HashMap<IpAddr, u32>>,
}

/// One held connection slot.
#[derive(Debug)]
pub struct SlotGuard {
    slots: Arc<ConnectionSlots>,
    addr: IpAddr,
}

impl ConnectionSlots {
    /// Takes a slot for `addr`, or `None` when it has `limit` open already.
    pub fn acquire(self: &Arc<Self>, addr: IpAddr, limit: u32) -> Option<SlotGuard> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(addr).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(SlotGuard {
            slots: self.clone(),
            addr,
        })
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_and_resets() {
        let w = RateWindow::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            w.record("a", t0);
        }
        assert!(w.exceeded(&"a", 3, t0));
        assert!(!w.exceeded(&"a", 4, t0));
        assert!(!w.exceeded(&"b", 1, t0));
        assert!(!w.exceeded(&"a", 3, t0 + WINDOW));
        w.record("a", t0 + WINDOW);
        assert!(!w.exceeded(&"a", 2, t0 + WINDOW));
        w.clear(&"a");
        assert!(!w.exceeded(&"a", 1, t0));
    }

    #[test]
    fn slots_are_limited_and_released() {
        let slots = Arc::new(ConnectionSlots::default());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let a = slots.acquire(ip, 2).unwrap();
        let _b = slots.acquire(ip, 2).unwrap();
        assert!(slots.acquire(ip, 2).is_none());
        drop(a);
        assert!(slots.acquire(ip, 2).is_some());
    }
}
