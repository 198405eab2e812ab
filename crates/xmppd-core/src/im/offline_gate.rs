//! Orders "store a message offline" against "fetch stored messages for a session that just
//! came online", per account.
//!
//! Without it a message can be routed while the recipient is not yet available, the recipient
//! becomes available and fetches its (still empty) offline store, and only then the message is
//! written: it would wait in storage until the next login. With the gate, a store re-checks
//! availability after taking the account's lock, and a fetch takes the same lock, so either the
//! fetch sees the stored message or the store sees the available session.

use jid::BareJid;
use std::hash::BuildHasher;
use tokio::sync::{Mutex, MutexGuard};

/// Lock stripes: bounded memory whatever the number of accounts; two accounts share a stripe
/// rarely, and then only wait on each other for one database write.
const STRIPES: usize = 256;

/// Per-account (striped) locks for offline storage.
#[derive(Debug)]
pub struct OfflineGate {
    stripes: Vec<Mutex<()>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for OfflineGate {
    fn default() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }
}

impl OfflineGate {
    /// Waits for the lock of `account`'s stripe.
    pub async fn lock(&self, account: &BareJid) -> MutexGuard<'_, ()> {
        let index = usize::try_from(self.hasher.hash_one(account) % STRIPES as u64).unwrap_or(0);
        self.stripes[index].lock().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_account_is_serialised() {
        let gate = OfflineGate::default();
        let alice: BareJid = "alice@example.test".parse().unwrap();
        let held = gate.lock(&alice).await;
        let second = tokio::time::timeout(std::time::Duration::from_millis(50), gate.lock(&alice));
        assert!(
            second.await.is_err(),
            "a second lock on the same account did not wait"
        );
        drop(held);
        let _again = gate.lock(&alice).await;
    }
}
