//! The in-memory session registry: who is online, under which resource, and how to reach them.
//!
//! Delivery hands serialised stanza bytes (`Bytes`, shared across every recipient of a fan-out)
//! to a session's bounded outbox; the session's own task writes them. Nothing here awaits, so
//! the locks are held only for map look-ups.

use bytes::Bytes;
use jid::{BareJid, FullJid};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use xmppd_stream::StreamError;

/// What a session's writer receives.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// Serialised stanza bytes, written as they are.
    Stanza(Bytes),
    /// Send this stream error and close (e.g. a resource conflict).
    Close(StreamError),
}

/// Presence state of one session (RFC 6121 §4).
#[derive(Debug, Default, Clone)]
pub struct PresenceState {
    /// The last broadcast available presence (priority included), for probes and new
    /// subscribers; `None` before initial presence and after unavailable.
    pub last: Option<xmpp_parsers::presence::Presence>,
    /// Entities that got directed presence and must get our unavailable (RFC 6121 §4.6.3).
    pub directed_to: std::collections::BTreeSet<jid::Jid>,
    /// The client fetched the roster, so it gets roster pushes (RFC 6121 §2.1.6).
    pub interested: bool,
    /// The client enabled message carbons (XEP-0280).
    pub carbons: bool,
    /// The client fetched the blocklist, so it gets blocklist pushes (XEP-0191 §3.3).
    pub blocklist: bool,
    /// This session's active privacy list (XEP-0016 §3.3), if any.
    pub privacy_active: Option<String>,
}

/// A bound session as the router sees it.
#[derive(Debug)]
pub struct SessionHandle {
    pub id: u64,
    pub jid: FullJid,
    outbox: crate::outbox::Sender,
    pub presence: Mutex<PresenceState>,
    /// XEP-0198 is on: messages this session cannot take go to offline storage.
    pub sm_enabled: std::sync::atomic::AtomicBool,
    /// XEP-0198: the connection is gone and the session waits for resumption.
    pub sm_detached: std::sync::atomic::AtomicBool,
}

impl SessionHandle {
    /// Queues bytes for this session. False when its outbox is full or closed: the caller
    /// treats the stanza as undeliverable to this resource (never blocks the router).
    pub fn send(&self, bytes: Bytes) -> bool {
        self.outbox.try_send(Outgoing::Stanza(bytes)).is_ok()
    }

    /// Queues bytes, waiting for room: for bulk deliveries to this session (offline messages)
    /// that must not be dropped. False when the session is gone.
    pub async fn send_wait(&self, bytes: Bytes) -> bool {
        self.outbox.send(Outgoing::Stanza(bytes)).await.is_ok()
    }

    /// Asks the session to close with a stream error.
    pub fn close(&self, error: StreamError) {
        let _ = self.outbox.try_send(Outgoing::Close(error));
    }

    /// A snapshot of the presence state.
    pub fn presence(&self) -> PresenceState {
        self.presence
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// What the RFC 6121 rules need to know of this session.
    pub fn snapshot(&self) -> xmppd_modules::rfc6121::presence::ResourceSnapshot {
        xmppd_modules::rfc6121::presence::ResourceSnapshot {
            jid: self.jid.clone(),
            presence: self
                .presence
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .last
                .clone(),
        }
    }

    /// Changes the presence state.
    pub fn update_presence<R>(&self, f: impl FnOnce(&mut PresenceState) -> R) -> R {
        f(&mut self.presence.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Why a resource could not be bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error("binding a resource failed: the account has {0} resources already")]
    TooManyResources(usize),
}

/// Every bound session, by bare JID.
#[derive(Debug, Default)]
pub struct Router {
    users: RwLock<HashMap<BareJid, Vec<Arc<SessionHandle>>>>,
    next_id: AtomicU64,
    /// Woken whenever a session is unbound (for shutdown to wait on).
    unbound: tokio::sync::Notify,
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds `jid` to a new session. A session already holding the same full JID is told to
    /// close with `<conflict/>` and replaced (RFC 6120 §7.7.2.2: the new one wins, since the old
    /// one is most often a dead connection the client is replacing).
    pub fn bind(
        &self,
        jid: FullJid,
        outbox: crate::outbox::Sender,
        max_resources: usize,
    ) -> Result<Arc<SessionHandle>, BindError> {
        let bare = jid.to_bare();
        let handle = Arc::new(SessionHandle {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            jid,
            outbox,
            presence: Mutex::new(PresenceState::default()),
            sm_enabled: Default::default(),
            sm_detached: Default::default(),
        });
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let sessions = users.entry(bare).or_default();
        if let Some(pos) = sessions.iter().position(|s| s.jid == handle.jid) {
            let old = sessions.remove(pos);
            old.close(
                StreamError::new(xmpp_parsers::stream_error::DefinedCondition::Conflict)
                    .with_text("Replaced by a new connection with the same resource"),
            );
        }
        if sessions.len() >= max_resources {
            return Err(BindError::TooManyResources(sessions.len()));
        }
        sessions.push(handle.clone());
        Ok(handle)
    }

    /// Removes a session (only that exact one: a replacement with the same JID stays).
    pub fn unbind(&self, handle: &SessionHandle) {
        let bare = handle.jid.to_bare();
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        if let Some(sessions) = users.get_mut(&bare) {
            sessions.retain(|s| s.id != handle.id);
            if sessions.is_empty() {
                users.remove(&bare);
            }
        }
        drop(users);
        self.unbound.notify_waiters();
    }

    /// Every bound session.
    pub fn all_sessions(&self) -> Vec<Arc<SessionHandle>> {
        self.users
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .flatten()
            .cloned()
            .collect()
    }

    /// Waits until no session is bound, or `limit` has passed; true if all are gone.
    pub async fn wait_until_empty(&self, limit: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            // Registered before the count is read, so an unbind in between is not missed.
            let notified = self.unbound.notified();
            if self.session_count() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.session_count() == 0;
            }
        }
    }

    /// All sessions of an account.
    pub fn sessions(&self, bare: &BareJid) -> Vec<Arc<SessionHandle>> {
        self.users
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(bare)
            .cloned()
            .unwrap_or_default()
    }

    /// The session bound to exactly this full JID.
    pub fn session(&self, jid: &FullJid) -> Option<Arc<SessionHandle>> {
        self.sessions(&jid.to_bare())
            .into_iter()
            .find(|s| &s.jid == jid)
    }

    /// Number of bound sessions.
    pub fn session_count(&self) -> usize {
        self.users
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(Vec::len)
            .sum()
    }

    /// Bare JIDs with at least one session, for admin commands.
    pub fn online_users(&self) -> Vec<BareJid> {
        let mut users: Vec<BareJid> = self
            .users
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        users.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        users
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jid(s: &str) -> FullJid {
        FullJid::new(s).unwrap()
    }

    #[test]
    fn bind_lookup_unbind() {
        let router = Router::new();
        let (tx, mut rx) = crate::outbox::channel(4);
        let a = router.bind(jid("a@x.test/phone"), tx.clone(), 10).unwrap();
        let b = router.bind(jid("a@x.test/laptop"), tx, 10).unwrap();
        assert_eq!(router.sessions(&a.jid.to_bare()).len(), 2);
        assert_eq!(router.session(&jid("a@x.test/laptop")).unwrap().id, b.id);
        assert!(a.send(Bytes::from_static(b"<message/>")));
        assert!(matches!(rx.try_recv(), Some(Outgoing::Stanza(b)) if &b[..] == b"<message/>"));
        router.unbind(&a);
        router.unbind(&b);
        assert_eq!(router.session_count(), 0);
        assert!(router.online_users().is_empty());
    }

    #[test]
    fn same_resource_replaces_the_old_session_with_conflict() {
        let router = Router::new();
        let (old_tx, mut old_rx) = crate::outbox::channel(4);
        let (new_tx, _new_rx) = crate::outbox::channel(4);
        let old = router.bind(jid("a@x.test/r"), old_tx, 10).unwrap();
        let new = router.bind(jid("a@x.test/r"), new_tx, 10).unwrap();
        match old_rx.try_recv() {
            Some(Outgoing::Close(e)) => {
                assert_eq!(
                    e.condition,
                    xmpp_parsers::stream_error::DefinedCondition::Conflict
                )
            }
            other => panic!("expected a conflict close, got {other:?}"),
        }
        // The old session's late unbind must not remove its replacement.
        router.unbind(&old);
        assert_eq!(router.session(&jid("a@x.test/r")).unwrap().id, new.id);
    }

    #[test]
    fn resource_limit_is_enforced() {
        let router = Router::new();
        let (tx, _rx) = crate::outbox::channel(4);
        router.bind(jid("a@x.test/1"), tx.clone(), 2).unwrap();
        router.bind(jid("a@x.test/2"), tx.clone(), 2).unwrap();
        assert_eq!(
            router.bind(jid("a@x.test/3"), tx, 2).unwrap_err(),
            BindError::TooManyResources(2)
        );
    }

    #[test]
    fn full_outbox_refuses_instead_of_blocking() {
        let router = Router::new();
        let (tx, _rx) = crate::outbox::channel(1);
        let s = router.bind(jid("a@x.test/1"), tx, 2).unwrap();
        assert!(s.send(Bytes::from_static(b"1")));
        assert!(!s.send(Bytes::from_static(b"2")));
    }
}
