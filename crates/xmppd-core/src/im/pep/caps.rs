//! What each client wants notifications for, from its XEP-0115 caps: the server reads `<c/>`
//! in a client's presence, asks that client's disco#info once per `node#ver` it has not seen,
//! checks the answer against the hash, and keeps the features for every later client with the
//! same caps.

use super::Server;
use crate::im::{Session, send_element};
use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use xmpp_parsers::caps::Caps;
use xmpp_parsers::disco::{DiscoInfoQuery, DiscoInfoResult};
use xmpp_parsers::hashes::Algo;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::presence::Presence;

/// Distinct caps kept; past this new ones are not cached (each is one disco#info per client).
const MAX_CACHED: usize = 10_000;
/// Queries awaiting an answer; past this no new query is sent.
const MAX_PENDING: usize = 1_000;

#[derive(Debug, Default)]
struct Inner {
    /// `node#ver` of each available client that sent caps.
    by_session: HashMap<FullJid, String>,
    /// Verified features per `node#ver`.
    features: HashMap<String, Arc<Vec<String>>>,
    /// Features a client gave that do not match its hash: used for that client alone, never
    /// cached for others (some clients advertise a stale hash after changing their features).
    unverified: HashMap<FullJid, Arc<Vec<String>>>,
    /// Our disco#info queries by IQ id: the caps asked for, and whom we asked.
    pending: HashMap<String, (String, FullJid, Vec<u8>)>,
    /// Clients waiting for the answer about a `node#ver`.
    waiting: HashMap<String, Vec<FullJid>>,
    next_id: u64,
}

/// The server's caps cache.
#[derive(Debug, Default)]
pub struct CapsCache(Mutex<Inner>);

impl CapsCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The disco features of a client, if its caps are known.
    pub fn features_of(&self, jid: &FullJid) -> Vec<String> {
        self.lock()
            .of(jid)
            .map(|f| f.as_ref().clone())
            .unwrap_or_default()
    }

    /// Does this client want notifications of `node`?
    pub fn wants(&self, jid: &FullJid, node: &str) -> bool {
        self.lock()
            .of(jid)
            .is_some_and(|f| xmppd_modules::xep0163_pep::wants(f.iter(), node))
    }
}

impl Inner {
    fn of(&self, jid: &FullJid) -> Option<&Arc<Vec<String>>> {
        self.by_session
            .get(jid)
            .and_then(|key| self.features.get(key))
            .or_else(|| self.unverified.get(jid))
    }
}

/// What to do after a client's presence was read.
enum Next {
    Nothing,
    SendLastItems,
    Ask(String, String),
}

/// A client sent available presence: note its caps; when they are new for this client, send
/// the last items it asked for (at once if the caps are known, else after the disco answer).
pub async fn on_available(server: &Server, jid: &FullJid, presence: &Presence) {
    // The key keeps `ver` as the client wrote it: that is the node it answers disco for.
    let caps = presence
        .payloads
        .iter()
        .find(|p| p.is("c", ns::CAPS))
        .and_then(|c| Some((Caps::try_from(c.clone()).ok()?, c.attr("ver")?.to_owned())))
        .filter(|(c, _)| c.hash == Algo::Sha_1);
    let next = {
        let mut inner = server.pep.caps.lock();
        match caps {
            None => {
                inner.unverified.remove(jid);
                inner.by_session.remove(jid);
                Next::Nothing
            }
            Some((caps, ver)) => {
                let key = format!("{}#{}", caps.node, ver);
                if inner.by_session.get(jid) == Some(&key) {
                    Next::Nothing
                } else {
                    inner.unverified.remove(jid);
                    inner.by_session.insert(jid.clone(), key.clone());
                    if inner.features.contains_key(&key) {
                        Next::SendLastItems
                    } else if let Some(waiting) = inner.waiting.get_mut(&key) {
                        waiting.push(jid.clone());
                        Next::Nothing
                    } else if inner.pending.len() < MAX_PENDING {
                        inner.next_id += 1;
                        let id = format!("pep-caps-{}", inner.next_id);
                        inner
                            .pending
                            .insert(id.clone(), (key.clone(), jid.clone(), caps.ver.clone()));
                        inner.waiting.insert(key.clone(), vec![jid.clone()]);
                        Next::Ask(id, key)
                    } else {
                        Next::Nothing
                    }
                }
            }
        }
    };
    match next {
        Next::Nothing => {}
        Next::SendLastItems => super::notify::last_items(server, jid).await,
        Next::Ask(id, key) => {
            tracing::debug!(%key, "asking a client for its caps");
            ask(server, jid, id, key);
        }
    }
}

fn ask(server: &Server, jid: &FullJid, id: String, key: String) {
    let Some(session) = server.router.session(jid) else {
        return;
    };
    let domain = BareJid::from_parts(None, jid.domain());
    let iq = Iq::Get {
        from: Some(Jid::from(domain)),
        to: Some(Jid::from(jid.clone())),
        id,
        payload: DiscoInfoQuery { node: Some(key) }.into(),
    };
    send_element(&session, &Element::from(iq));
}

/// An IQ result or error addressed to the server: `true` if it answered one of our caps
/// queries (then it is consumed here).
pub async fn iq_response(server: &Server, iq: &Iq) -> bool {
    let (id, from, payload) = match iq {
        Iq::Result {
            id, from, payload, ..
        } => (id, from, payload.clone()),
        Iq::Error { id, from, .. } => (id, from, None),
        _ => return false,
    };
    let taken = {
        let mut inner = server.pep.caps.lock();
        match inner.pending.get(id) {
            // Only the client we asked may answer.
            Some((_, asked, _)) if from.as_ref() == Some(&Jid::from(asked.clone())) => {
                inner.pending.remove(id)
            }
            _ => None,
        }
    };
    let Some((key, asked, claimed)) = taken else {
        return false;
    };
    let node = key.split('#').next().unwrap_or_default().to_owned();
    let info = payload.and_then(|p| DiscoInfoResult::try_from(p).ok());
    let mut ask_again = Vec::new();
    let ready = {
        let mut inner = server.pep.caps.lock();
        let waiting = inner.waiting.remove(&key).unwrap_or_default();
        match info {
            Some(info) => {
                let verified =
                    xmppd_modules::xep0115_caps::caps(&node, &info).is_ok_and(|c| c.ver == claimed);
                let features = Arc::new(info.features.into_iter().collect::<Vec<_>>());
                if verified && inner.features.len() < MAX_CACHED {
                    inner.features.insert(key.clone(), features);
                    waiting
                        .into_iter()
                        .filter(|j| inner.by_session.get(j) == Some(&key))
                        .collect()
                } else {
                    tracing::debug!(%key, "caps answer does not match its hash: not cached");
                    // Every other client that claimed these caps must answer for itself.
                    for other in waiting.into_iter().filter(|j| *j != asked) {
                        if inner.by_session.get(&other) == Some(&key)
                            && inner.pending.len() < MAX_PENDING
                        {
                            inner.next_id += 1;
                            let id = format!("pep-caps-{}", inner.next_id);
                            let entry = (key.clone(), other.clone(), claimed.clone());
                            inner.pending.insert(id.clone(), entry);
                            ask_again.push((other, id));
                        }
                    }
                    if inner.by_session.get(&asked) == Some(&key) {
                        inner.unverified.insert(asked.clone(), features);
                        vec![asked]
                    } else {
                        Vec::new()
                    }
                }
            }
            None => Vec::new(),
        }
    };
    for (jid, id) in ask_again {
        ask(server, &jid, id, key.clone());
    }
    for jid in ready {
        super::notify::last_items(server, &jid).await;
    }
    true
}

/// The session ended: its caps no longer count.
pub fn forget_session(server: &Server, session: &Session) {
    server.pep.caps.lock().by_session.remove(session.jid());
}
