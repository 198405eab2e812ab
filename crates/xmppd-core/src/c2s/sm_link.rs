//! XEP-0198 stream management on one connection: enable, acks both ways, resumption of a
//! detached session, and what happens to the session when the connection ends.

use super::Connection;
use crate::sm::{Detached, Registry, SmState, end_session};
use bytes::Bytes;
use minidom::Element;
use std::io;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use xmpp_parsers::stanza_error::DefinedCondition as Condition;
use xmppd_stream::c2s::{Action, Stage};
use xmppd_stream::sm::{self, Request};
use xmppd_stream::{DefinedCondition, StreamError};

/// Unacknowledged stanzas one session may have; a client that never acks is cut off.
const MAX_UNACKED: usize = 2048;
/// How long a resumption waits for a still-open old connection to let go.
const TAKEOVER_WAIT: Duration = Duration::from_secs(10);

/// Resolves when a resumption elsewhere asks this connection to let go of its session.
pub(super) async fn kicked(sm: &Option<SmState>) {
    match sm.as_ref().and_then(|sm| sm.kick.clone()) {
        Some(kick) => kick.notified().await,
        None => std::future::pending().await,
    }
}

impl Connection {
    /// Is this a stream management element we handle?
    pub(super) fn sm_applies(&self, element: &Element) -> bool {
        element.ns() == sm::NS
            && self
                .runtime
                .server
                .enabled(xmppd_config::Module::StreamManagement)
    }

    /// A stanza was written to the client.
    pub(super) fn sm_sent(&mut self, bytes: Bytes) {
        if let Some(sm) = &mut self.sm {
            sm.outbound.sent(bytes);
        }
    }

    /// The negotiation machine answered an iq itself (legacy session, second bind): both the
    /// client's iq and our reply count as stanzas.
    pub(super) fn sm_internal_reply(&mut self, bytes: &[u8]) {
        if self.c2s.stage() != Stage::Bound || !bytes.starts_with(b"<iq") {
            return;
        }
        if let Some(sm) = &mut self.sm {
            sm.inbound.handled_one();
            sm.outbound.sent(Bytes::copy_from_slice(bytes));
        }
    }

    /// After a batch of stanzas: ask for an ack (one `<r/>` outstanding at most); cut off a
    /// client that lets too many pile up.
    pub(super) async fn sm_after_batch(&mut self) -> io::Result<()> {
        let Some(sm) = &mut self.sm else {
            return Ok(());
        };
        if sm.outbound.unacked_len() > MAX_UNACKED {
            let error = StreamError::new(DefinedCondition::PolicyViolation)
                .with_text("too many unacknowledged stanzas");
            let actions = self.c2s.close(Some(error));
            return Box::pin(self.carry_out(actions)).await;
        }
        if sm.outbound.unacked_len() > 0 && !sm.ack_requested {
            sm.ack_requested = true;
            self.write_element(&sm::request()).await?;
        }
        Ok(())
    }

    /// Handles one stream management element; may return actions for the caller to carry out.
    pub(super) async fn on_sm(&mut self, element: &Element) -> io::Result<Vec<Action>> {
        let request = match sm::parse(element) {
            Some(Ok(request)) => request,
            _ => {
                let error = StreamError::new(DefinedCondition::UnsupportedStanzaType);
                return Ok(self.c2s.close(Some(error)));
            }
        };
        match request {
            Request::Enable { resume, max } => self.sm_enable(resume, max).await?,
            Request::Request => {
                if let Some(sm) = &self.sm {
                    let h = sm.inbound.h();
                    self.write_element(&sm::ack(h)).await?;
                }
            }
            Request::Ack(h) => {
                if let Some(sm) = &mut self.sm {
                    sm.ack_requested = false;
                    if let Err(err) = sm.outbound.ack(h) {
                        let error = StreamError::new(DefinedCondition::UndefinedCondition)
                            .with_text(err.to_string());
                        return Ok(self.c2s.close(Some(error)));
                    }
                }
            }
            Request::Resume { previd, h } => return self.sm_resume(&previd, h).await,
        }
        Ok(Vec::new())
    }

    async fn sm_enable(&mut self, resume: bool, client_max: Option<u32>) -> io::Result<()> {
        let Some(session) = self.session.as_ref().filter(|_| self.sm.is_none()) else {
            // Only once, and only after binding (XEP-0198 §3).
            return self
                .write_element(&sm::failed(Condition::UnexpectedRequest, None))
                .await;
        };
        let limit = self
            .runtime
            .server
            .config
            .limits
            .sm_resume_timeout_secs
            .max(1);
        let timeout = client_max.map_or(limit, |m| m.clamp(1, limit));
        let id = resume
            .then(xmppd_stream::writer::new_stream_id)
            .and_then(Result::ok);
        let kick = id
            .as_ref()
            .map(|id| self.runtime.server.sm.register(id, session.bare()));
        session.handle.sm_enabled.store(true, Ordering::Relaxed);
        let answer = sm::enabled(id.as_deref().map(|id| (id, timeout)));
        self.sm = Some(SmState::new(id, timeout, kick));
        self.write_element(&answer).await
    }

    async fn sm_resume(&mut self, previd: &str, h: u32) -> io::Result<Vec<Action>> {
        let owner = self
            .c2s
            .username()
            .and_then(|u| jid::BareJid::new(&format!("{u}@{}", self.host())).ok());
        let (Some(owner), Stage::Authenticated) = (owner, self.c2s.stage()) else {
            let failed = sm::failed(Condition::UnexpectedRequest, None);
            return self.write_element(&failed).await.map(|()| Vec::new());
        };
        let server = self.runtime.server.clone();
        let found = server
            .sm
            .take_for_resumption(previd, &owner, TAKEOVER_WAIT)
            .await;
        let Some(mut detached) = found.map(|d| *d) else {
            let failed = sm::failed(Condition::ItemNotFound, None);
            return self.write_element(&failed).await.map(|()| Vec::new());
        };
        let handle = detached.session.handle.clone();
        let bound = server
            .router
            .session(&handle.jid)
            .is_some_and(|s| s.id == handle.id);
        let resend = match detached.sm.outbound.resume(h) {
            Ok(resend) if bound => resend,
            _ => {
                // Replaced by a new login meanwhile, or a count we never reached.
                let failed = sm::failed(Condition::ItemNotFound, None);
                end_session(&server, detached).await;
                return self.write_element(&failed).await.map(|()| Vec::new());
            }
        };
        handle.sm_detached.store(false, Ordering::Relaxed);
        detached.sm.kick = Some(server.sm.register(previd, owner));
        detached.sm.ack_requested = false;
        detached.sm.resumed = true;
        let jid = handle.jid.clone();
        let answer = sm::resumed(previd, detached.sm.inbound.h());
        let Detached {
            session,
            outbox_tx,
            outbox_rx,
            csi,
            sm,
        } = detached;
        self.session = Some(session);
        self.outbox_tx = outbox_tx;
        self.outbox_rx = outbox_rx;
        self.csi = csi;
        self.sm = Some(sm);
        self.write_element(&answer).await?;
        // XEP-0198 §5: what the client did not acknowledge goes out again.
        for bytes in resend {
            self.io.write_all(&bytes).await?;
            self.sm_sent(bytes);
        }
        tracing::debug!(%jid, "stream management: session resumed");
        Ok(self.c2s.resumed(jid))
    }

    /// The connection ended: a resumable session waits for its client unless the stream was
    /// closed on purpose; otherwise it ends, with undelivered messages kept offline.
    pub(super) async fn sm_finish(&mut self, session: crate::im::Session, sm: SmState) {
        let (_, empty_rx) = crate::outbox::channel(1);
        let timeout = Duration::from_secs(u64::from(sm.timeout_secs));
        let resumable = sm.id.clone().filter(|_| !self.closed);
        let detached = Detached {
            session,
            outbox_tx: self.outbox_tx.clone(),
            outbox_rx: std::mem::replace(&mut self.outbox_rx, empty_rx),
            csi: std::mem::take(&mut self.csi),
            sm,
        };
        match resumable {
            Some(id) => {
                tracing::debug!("stream management: session detached");
                Registry::detach(&self.runtime.server, id, detached, timeout);
            }
            None => end_session(&self.runtime.server, detached).await,
        }
    }

    async fn write_element(&mut self, element: &Element) -> io::Result<()> {
        if let Ok(bytes) = xmppd_stream::writer::element(element) {
            self.io.write_all(&bytes).await?;
            self.io.flush().await?;
        }
        Ok(())
    }
}
