//! XEP-0198 stream management across connections: each connection's counters, the registry of
//! resumable sessions (live or detached after a dropped connection), the resumption timeout, and
//! the end of a session, where unacknowledged messages go to offline storage (XEP-0198 §5:
//! delivery failed for them) instead of into the void.

use crate::csi::Csi;
use crate::im::{self, Session};
use crate::router::Outgoing;
use crate::server::Server;
use bytes::Bytes;
use jid::BareJid;
use minidom::Element;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use xmppd_stream::framing::{Limits, StreamEvent, StreamHeader, StreamReader};
use xmppd_stream::sm::{Inbound, Outbound};

/// One connection's stream management state.
#[derive(Debug)]
pub struct SmState {
    /// The resumption id, when the client asked for resumption.
    pub id: Option<String>,
    /// Seconds the session waits for resumption.
    pub timeout_secs: u32,
    /// Stanzas we handled from the client.
    pub inbound: Inbound,
    /// Stanzas we wrote and the client has not acknowledged yet.
    pub outbound: Outbound<Bytes>,
    /// An `<r/>` of ours is unanswered.
    pub ack_requested: bool,
    /// Woken when a resumption elsewhere takes this session over.
    pub kick: Option<Arc<Notify>>,
    /// This connection resumed a session (no new-login greeting).
    pub resumed: bool,
}

impl SmState {
    pub fn new(id: Option<String>, timeout_secs: u32, kick: Option<Arc<Notify>>) -> Self {
        Self {
            id,
            timeout_secs,
            inbound: Inbound::default(),
            outbound: Outbound::default(),
            ack_requested: false,
            kick,
            resumed: false,
        }
    }
}

/// A session whose connection is gone, kept bound until it is resumed or times out.
#[derive(Debug)]
pub struct Detached {
    pub session: Session,
    pub outbox_tx: crate::outbox::Sender,
    pub outbox_rx: crate::outbox::Receiver,
    pub csi: Csi,
    pub sm: SmState,
}

#[derive(Debug)]
enum SlotState {
    /// A connection serves the session; notify to make it let go.
    Live(Arc<Notify>),
    /// Waiting for resumption; the task that ends it on timeout.
    Detached(Box<Detached>, tokio::task::AbortHandle),
}

#[derive(Debug)]
struct Slot {
    owner: BareJid,
    state: SlotState,
}

/// Resumable sessions by resumption id.
#[derive(Debug, Default)]
pub struct Registry {
    slots: Mutex<HashMap<String, Slot>>,
    /// Woken whenever a session is detached.
    changed: Notify,
}

/// What a resumption attempt found.
enum Take {
    Resumable(Box<Detached>),
    /// A live connection holds it and was told to let go.
    Kicked,
    Unknown,
}

impl Registry {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection enabled resumption under `id`; the returned signal asks it to let go.
    pub fn register(&self, id: &str, owner: BareJid) -> Arc<Notify> {
        let kick = Arc::new(Notify::new());
        let state = SlotState::Live(kick.clone());
        self.slots().insert(id.to_owned(), Slot { owner, state });
        kick
    }

    /// Forgets a session that ended.
    pub fn remove(&self, id: &str) {
        self.slots().remove(id);
    }

    /// The connection of `detached` dropped: keep it for `timeout`, then end it.
    pub fn detach(server: &Arc<Server>, id: String, detached: Detached, timeout: Duration) {
        let owner = detached.session.bare();
        let handle = &detached.session.handle;
        handle.sm_detached.store(true, Ordering::Relaxed);
        let expiry = {
            let server = server.clone();
            let id = id.clone();
            tokio::spawn(async move {
                tokio::time::sleep(timeout).await;
                if let Some(detached) = server.sm.expire(&id) {
                    tracing::debug!("stream management: resumption timed out");
                    end_session(&server, *detached).await;
                }
            })
        };
        let state = SlotState::Detached(Box::new(detached), expiry.abort_handle());
        server.sm.slots().insert(id, Slot { owner, state });
        server.sm.changed.notify_waiters();
    }

    /// Ends every detached session now (at shutdown), keeping their messages offline.
    pub async fn end_all_detached(server: &Arc<Server>) {
        let detached: Vec<Box<Detached>> = {
            let mut slots = server.sm.slots();
            let ids: Vec<String> = slots
                .iter()
                .filter(|(_, s)| matches!(s.state, SlotState::Detached(..)))
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter()
                .filter_map(|id| match slots.remove(id).map(|s| s.state) {
                    Some(SlotState::Detached(d, expiry)) => {
                        expiry.abort();
                        Some(d)
                    }
                    _ => None,
                })
                .collect()
        };
        for d in detached {
            end_session(server, *d).await;
        }
    }

    fn expire(&self, id: &str) -> Option<Box<Detached>> {
        let mut slots = self.slots();
        match slots.remove(id) {
            Some(Slot {
                state: SlotState::Detached(detached, _),
                ..
            }) => Some(detached),
            Some(live) => {
                // Resumed meanwhile: not ours to end.
                slots.insert(id.to_owned(), live);
                None
            }
            None => None,
        }
    }

    fn take(&self, id: &str, owner: &BareJid) -> Take {
        let mut slots = self.slots();
        let Some(slot) = slots.get(id).filter(|s| &s.owner == owner) else {
            return Take::Unknown;
        };
        if let SlotState::Live(kick) = &slot.state {
            kick.notify_one();
            return Take::Kicked;
        }
        match slots.remove(id).map(|s| s.state) {
            Some(SlotState::Detached(detached, expiry)) => {
                expiry.abort();
                Take::Resumable(detached)
            }
            _ => Take::Unknown,
        }
    }

    /// The detached session `id` of `owner`. A connection still serving it is closed first
    /// (it most likely died without us noticing); waits at most `limit` for it to let go.
    pub async fn take_for_resumption(
        &self,
        id: &str,
        owner: &BareJid,
        limit: Duration,
    ) -> Option<Box<Detached>> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before looking, so a detach in between is not missed.
            changed.as_mut().enable();
            match self.take(id, owner) {
                Take::Resumable(detached) => return Some(detached),
                Take::Unknown => return None,
                Take::Kicked => {
                    if tokio::time::timeout_at(deadline, changed).await.is_err() {
                        return None;
                    }
                }
            }
        }
    }
}

/// Ends a stream-managed session for good: unavailable presence, unbind, and every message it
/// did not get (unacknowledged or still queued) to offline storage. Presence is dropped.
pub async fn end_session(server: &Arc<Server>, mut detached: Detached) {
    let session = detached.session.clone();
    let handle = &session.handle;
    if let Some(id) = &detached.sm.id {
        server.sm.remove(id);
    }
    let still_bound = server
        .router
        .session(&handle.jid)
        .is_some_and(|s| s.id == handle.id);
    if still_bound {
        im::go_offline(server, &session).await;
    }
    let unacked = std::mem::take(&mut detached.sm.outbound).into_unacked();
    store_undelivered(server, &session, unacked, &mut detached.outbox_rx).await;
    // Stored before unbinding: shutdown waits for sessions to unbind before closing storage.
    server.router.unbind(handle);
    detached.outbox_rx.close();
    store_undelivered(server, &session, Vec::new(), &mut detached.outbox_rx).await;
}

/// Stores `first`, then whatever is queued, as offline messages (other stanzas are dropped).
async fn store_undelivered(
    server: &Arc<Server>,
    session: &Session,
    mut undelivered: Vec<Bytes>,
    outbox: &mut crate::outbox::Receiver,
) {
    while let Some(out) = outbox.try_recv() {
        if let Outgoing::Stanza(bytes) = out {
            undelivered.push(bytes);
        }
    }
    let bare = session.bare();
    let Some(user) = server.local_user(&bare) else {
        return;
    };
    let limit = server.config.limits.max_stanza_bytes;
    for stanza in undelivered.iter().filter_map(|b| reparse(b, limit)) {
        if stanza.is("message", xmpp_parsers::ns::DEFAULT_NS) && !is_carbon_copy(&stanza) {
            im::store_offline(server, stanza, user).await;
        }
    }
}

/// Carbon copies exist for other sessions' sake; the original reaches its addressee elsewhere.
fn is_carbon_copy(message: &Element) -> bool {
    message.has_child("sent", xmpp_parsers::ns::CARBONS)
        || message.has_child("received", xmpp_parsers::ns::CARBONS)
}

/// Parses a stanza we serialised for a session (inside a stream, so without its namespace
/// declaration) back into an element.
fn reparse(bytes: &[u8], max_stanza_bytes: usize) -> Option<Element> {
    let header = xmppd_stream::writer::header(&StreamHeader {
        to: None,
        from: None,
        id: None,
        version: Some("1.0".into()),
        lang: None,
        xmlns: xmppd_stream::ns::JABBER_CLIENT.into(),
    })
    .ok()?;
    let mut reader = StreamReader::new(Limits {
        max_stanza_bytes,
        ..Limits::default()
    });
    let mut input: &[u8] = &header;
    while let Ok(Some(event)) = reader.next_event(&mut input) {
        if matches!(event, StreamEvent::Header(_)) {
            break;
        }
    }
    let mut input = bytes;
    match reader.next_event(&mut input) {
        Ok(Some(StreamEvent::Stanza(el))) => Some(el),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialised_stanzas_parse_back_in_the_client_namespace() {
        let original: Element =
            "<message xmlns='jabber:client' to='a@x.test/r' type='chat'><body>hi &amp; bye</body></message>"
                .parse()
                .unwrap();
        let bytes = xmppd_stream::writer::element(&original).unwrap();
        let back = reparse(&bytes, 65536).unwrap();
        assert_eq!(back, original);
        assert!(reparse(b"<message><body>", 65536).is_none());
    }

    #[test]
    fn carbon_copies_are_recognised() {
        let copy: Element =
            "<message xmlns='jabber:client'><received xmlns='urn:xmpp:carbons:2'/></message>"
                .parse()
                .unwrap();
        let plain: Element = "<message xmlns='jabber:client'><body>x</body></message>"
            .parse()
            .unwrap();
        assert!(is_carbon_copy(&copy));
        assert!(!is_carbon_copy(&plain));
    }
}
