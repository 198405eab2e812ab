//! Server-to-server federation (RFC 6120 `jabber:server` streams).
//!
//! | file | job |
//! |---|---|
//! | `tls.rs` | s2s TLS: shared certificate store, peers' certificates checked per domain |
//! | `stream.rs` | one socket with the stream reader: events in, elements out |
//! | `resolve.rs` | where a domain's server is: static routes, SRV, then A/AAAA on 5269 |
//! | `outgoing.rs` | one link per (local, remote) domain pair: connect, STARTTLS, SASL EXTERNAL or dialback, then stanzas out |
//! | `incoming.rs` | accepted streams: STARTTLS, SASL EXTERNAL or dialback, then stanzas in |
//!
//! The elements are built and parsed by the sans-IO `xmppd_stream::s2s`.

mod incoming;
mod outgoing;
mod resolve;
mod stream;
pub mod tls;

pub use incoming::serve as serve_incoming;

use crate::server::Server;
use minidom::Element;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

/// Outgoing links at once: a user sending to many made-up domains must not make the server
/// dial without bound (each failed link lives until its connect timeout).
const MAX_LINKS: usize = 4096;

/// Why an s2s stream failed; each variant names the failed step.
#[derive(Debug, thiserror::Error)]
pub enum S2sError {
    #[error("reading or writing the socket: {0}")]
    Io(std::io::Error),
    #[error("the peer closed the stream")]
    Closed,
    #[error("reading the stream: {0}")]
    Framing(xmppd_stream::FramingError),
    #[error("serialising: {0}")]
    Serialise(String),
    #[error("the peer sent a stream error: {0}")]
    PeerStreamError(String),
    #[error("the peer sent {0}")]
    Unexpected(&'static str),
    #[error("resolving {0}: no address")]
    Resolve(String),
    #[error("connecting to {0}: every address failed")]
    Connect(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("negotiating: {0}")]
    Negotiation(String),
    #[error("authenticating: {0}")]
    Auth(String),
    #[error("timed out")]
    Timeout,
}

/// Federation state shared by every s2s task.
#[derive(Debug)]
pub struct S2s {
    pub tls: tls::S2sTls,
    /// XEP-0185: keys are HMACs under this per-process secret.
    secret: [u8; 32],
    /// Outgoing links by (local domain, remote domain); each a bounded queue.
    links: Mutex<HashMap<(String, String), mpsc::Sender<Element>>>,
    /// Incoming connections open now.
    incoming: AtomicU32,
    resolver: resolve::Resolver,
}

impl S2s {
    pub fn new(tls: tls::S2sTls) -> Result<Self, crate::CoreError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| crate::CoreError::Secret(e.to_string()))?;
        Ok(Self {
            tls,
            secret,
            links: Mutex::new(HashMap::new()),
            incoming: AtomicU32::new(0),
            resolver: resolve::Resolver::default(),
        })
    }

    /// The XEP-0185 key our `originating` domain gives `receiving` on stream `id`.
    pub(crate) fn dialback_key(&self, receiving: &str, originating: &str, id: &str) -> String {
        xmppd_stream::s2s::dialback::key(&self.secret, receiving, originating, id)
    }

    /// Takes an incoming slot, or `None` when `max` are open.
    pub(crate) fn take_incoming(self: &Arc<Self>, max: u32) -> Option<IncomingSlot> {
        let previous = self.incoming.fetch_add(1, Ordering::AcqRel);
        if previous >= max {
            self.incoming.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(IncomingSlot(self.clone()))
    }
}

/// One counted incoming connection, given back on drop.
#[derive(Debug)]
pub(crate) struct IncomingSlot(Arc<S2s>);

impl Drop for IncomingSlot {
    fn drop(&mut self) {
        self.0.incoming.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Is federation on? It is when an s2s listener is configured: dialback needs the peer to
/// reach us, and a server without one is meant to stay private.
pub fn enabled(server: &Server) -> bool {
    let l = &server.config.listeners;
    !(l.s2s.is_empty() && l.s2s_direct_tls.is_empty()) && server.s2s.get().is_some()
}

/// Sends a stanza (`jabber:client` inside xmppd) to a remote domain over its link, creating
/// the link on first use. A full queue bounces the stanza (RFC 6120 §10.4).
pub async fn send(server: &Arc<Server>, stanza: Element, remote: &str) {
    let Some(s2s) = server.s2s.get() else { return };
    let local = local_domain(server, &stanza);
    let key = (local, remote.to_ascii_lowercase());
    let mut stanza = stanza;
    for _ in 0..2 {
        let sender = {
            let mut links = s2s.links.lock().unwrap_or_else(|e| e.into_inner());
            if links.len() >= MAX_LINKS && !links.contains_key(&key) {
                None
            } else {
                Some(
                    links
                        .entry(key.clone())
                        .or_insert_with(|| {
                            let size = server.config.s2s.queue_size as usize;
                            let (tx, rx) = mpsc::channel(size.max(1));
                            tokio::spawn(outgoing::run(
                                server.clone(),
                                key.0.clone(),
                                key.1.clone(),
                                tx.clone(),
                                rx,
                            ));
                            tx
                        })
                        .clone(),
                )
            }
        };
        let Some(sender) = sender else {
            tracing::warn!("s2s: too many outgoing links; bouncing");
            bounce(server, &stanza, DefinedCondition::RemoteServerTimeout).await;
            return;
        };
        match sender.try_send(stanza) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(back)) => {
                tracing::debug!(remote = %key.1, "s2s queue full: bouncing");
                bounce(server, &back, DefinedCondition::RemoteServerTimeout).await;
                return;
            }
            Err(mpsc::error::TrySendError::Closed(back)) => {
                // The link ended since we looked: drop it from the map and make a new one.
                forget_link(s2s, &key, &sender);
                stanza = back;
            }
        }
    }
}

/// Removes a link from the map if it is still the one given.
pub(crate) fn forget_link(s2s: &S2s, key: &(String, String), sender: &mpsc::Sender<Element>) {
    let mut links = s2s.links.lock().unwrap_or_else(|e| e.into_inner());
    if links.get(key).is_some_and(|s| s.same_channel(sender)) {
        links.remove(key);
    }
}

/// Our domain a stanza leaves from: its `from` when we serve it, else the first host.
fn local_domain(server: &Server, stanza: &Element) -> String {
    let from = stanza
        .attr("from")
        .and_then(|f| jid::Jid::new(f).ok())
        .map(|j| j.domain().as_str().to_ascii_lowercase());
    match from {
        Some(d)
            if server
                .config
                .all_domains()
                .iter()
                .any(|x| x.eq_ignore_ascii_case(&d)) =>
        {
            d
        }
        _ => server
            .config
            .vhosts
            .first()
            .map(|v| v.domain.to_ascii_lowercase())
            .unwrap_or_default(),
    }
}

pub(crate) async fn bounce(server: &Arc<Server>, stanza: &Element, condition: DefinedCondition) {
    crate::im::bounce(server, stanza, ErrorType::Cancel, condition).await;
}
