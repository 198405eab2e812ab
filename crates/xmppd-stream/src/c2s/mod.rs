//! Client-to-server stream negotiation (RFC 6120 §4–§7, XEP-0368 direct TLS, RFC 3921 §3
//! legacy session) as a state machine without IO.
//!
//! Stages only move forward: Connected -> (STARTTLS) -> Secured -> (SASL) -> Authenticated ->
//! (bind) -> Bound. Nothing is routed before Bound. The caller feeds bytes and answers the
//! lookups it is asked for with the ticket it got; everything else comes out as [`Action`]s.

mod action;
mod bind;
mod features;
mod sasl;

use std::collections::BTreeSet;

use minidom::Element;

pub use action::{
    Action, BindRefusal, BindRequest, CredentialsRequest, LookupFailed, PlainRequest,
};

use crate::framing::{Limits, StreamEvent, StreamHeader, StreamReader};
use crate::ns;
use crate::sasl::mechanisms::Mechanism;
use crate::sasl::scram::{ChannelBindingData, ScramAwaitingFinal, UnknownUserKey};
use crate::stream_error::{DefinedCondition, StreamError};
use crate::writer::{self, STREAM_CLOSE};

/// Server-wide settings for client streams; share one behind an `Arc`.
#[derive(Debug, Clone)]
pub struct C2sConfig {
    /// Domains we serve (normalised); a client asking for another gets `host-unknown`.
    pub hosts: BTreeSet<String>,
    /// Stanza size, depth and attribute limits.
    pub limits: Limits,
    /// Refuse everything but STARTTLS until TLS is up.
    pub require_encryption: bool,
    /// Whether we have a certificate to offer STARTTLS with.
    pub starttls_available: bool,
    /// Enabled SASL mechanisms, preferred first.
    pub mechanisms: Vec<Mechanism>,
    /// Whether PLAIN may be offered (still only over TLS).
    pub plain_allowed: bool,
    /// Failed SASL attempts allowed before the stream is closed.
    pub max_auth_failures: u32,
    /// Makes unknown users indistinguishable from wrong passwords.
    pub unknown_user: UnknownUserKey,
    /// More features to offer after authentication (XEP-0198 `<sm/>`, XEP-0352 `<csi/>`,
    /// XEP-0115 `<c/>`, ...). Elements they bring come back as [`Action::Nonza`].
    pub extra_features: Vec<Element>,
    /// Hosts open to in-band registration (XEP-0077) by strangers, over TLS only.
    pub registration_hosts: BTreeSet<String>,
}

/// How the connection started.
#[derive(Debug, Clone)]
pub enum Transport {
    /// Plain TCP (port 5222); STARTTLS may follow.
    Plain,
    /// TLS from the first byte (XEP-0368, port 5223), with its channel binding data.
    DirectTls(ChannelBindingData),
}

/// How far negotiation has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// TCP only.
    Connected,
    /// TLS is up.
    Secured,
    /// SASL succeeded.
    Authenticated,
    /// A resource is bound; stanzas flow.
    Bound,
    /// The stream is closed.
    Closed,
}

/// What the state machine waits for next.
#[derive(Debug)]
enum Waiting {
    /// A (new) stream header.
    Header,
    /// Any top-level element.
    Element,
    /// The caller's TLS handshake.
    Tls,
    /// `<response/>` carrying the initial response after our empty challenge.
    InitialResponse(Mechanism),
    /// `<response/>` carrying SCRAM client-final.
    ScramFinal(Box<ScramAwaitingFinal>),
    /// The caller's answer to a credentials lookup, password check or bind request.
    Caller(CallerStep),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallerStep {
    Credentials,
    Plain,
    Bind,
}

/// One client stream's negotiation.
#[derive(Debug)]
pub struct C2s {
    config: std::sync::Arc<C2sConfig>,
    reader: StreamReader,
    stage: Stage,
    waiting: Waiting,
    channel_binding: ChannelBindingData,
    /// The domain the client asked for in its first header.
    host: Option<String>,
    username: Option<String>,
    auth_failures: u32,
    header_sent: bool,
    /// Input that arrived while we waited for the caller; replayed once it answers.
    held: Vec<u8>,
}

impl C2s {
    /// A new connection.
    #[must_use]
    pub fn new(config: std::sync::Arc<C2sConfig>, transport: Transport) -> Self {
        let (stage, channel_binding) = match transport {
            Transport::Plain => (Stage::Connected, ChannelBindingData::none()),
            Transport::DirectTls(cb) => (Stage::Secured, cb),
        };
        Self {
            reader: StreamReader::new(config.limits),
            config,
            stage,
            waiting: Waiting::Header,
            channel_binding,
            host: None,
            username: None,
            auth_failures: 0,
            header_sent: false,
            held: Vec::new(),
        }
    }

    /// How far negotiation has come.
    #[must_use]
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The domain the client connected to, once its header was read.
    #[must_use]
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The authenticated username, once SASL succeeded.
    #[must_use]
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// Bytes from the peer.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Action> {
        let mut out = Vec::new();
        self.process(data, &mut out);
        out
    }

    /// The TLS handshake after [`Action::StartTls`] completed; the client restarts the stream.
    pub fn tls_established(&mut self, channel_binding: ChannelBindingData) {
        if matches!(self.waiting, Waiting::Tls) {
            self.channel_binding = channel_binding;
            self.stage = Stage::Secured;
            self.restart();
        }
    }

    /// Close the stream from our side (shutdown, conflict, idle timeout...).
    pub fn close(&mut self, error: Option<StreamError>) -> Vec<Action> {
        let mut out = Vec::new();
        match error {
            Some(e) => self.fail(e, &mut out),
            None if self.stage != Stage::Closed => {
                out.push(Action::Send(STREAM_CLOSE.to_vec()));
                out.push(Action::Close(None));
                self.stage = Stage::Closed;
            }
            None => {}
        }
        out
    }

    /// A XEP-0198 resumption the caller accepted stands in for bind.
    pub fn resumed(&mut self, full_jid: jid::FullJid) -> Vec<Action> {
        if self.stage != Stage::Authenticated || !matches!(self.waiting, Waiting::Element) {
            return Vec::new();
        }
        self.stage = Stage::Bound;
        vec![Action::Bound(full_jid)]
    }

    fn process(&mut self, mut data: &[u8], out: &mut Vec<Action>) {
        while self.stage != Stage::Closed {
            match self.waiting {
                // Plaintext after <starttls/> is never read (it could be injected).
                Waiting::Tls => return,
                Waiting::Caller(_) => {
                    if self.held.len() + data.len() > self.config.limits.max_stanza_bytes {
                        let e = StreamError::new(DefinedCondition::PolicyViolation)
                            .with_text("too much input while authenticating");
                        self.fail(e, out);
                    } else {
                        self.held.extend_from_slice(data);
                    }
                    return;
                }
                _ => {}
            }
            match self.reader.next_event(&mut data) {
                Ok(Some(ev)) => self.on_event(ev, out),
                Ok(None) => return,
                Err(e) => {
                    self.fail(e.to_stream_error(), out);
                    return;
                }
            }
        }
    }

    /// The caller answered: go on with what arrived meanwhile.
    fn resume(&mut self, out: &mut Vec<Action>) {
        if !self.held.is_empty() && !matches!(self.waiting, Waiting::Caller(_)) {
            let held = std::mem::take(&mut self.held);
            self.process(&held, out);
        }
    }

    /// Whether an answer from the caller for `step` is still wanted (not stale).
    fn awaits(&self, step: CallerStep) -> bool {
        self.stage != Stage::Closed && matches!(self.waiting, Waiting::Caller(s) if s == step)
    }

    fn restart(&mut self) {
        self.reader.reset();
        self.waiting = Waiting::Header;
        self.header_sent = false;
    }

    fn on_event(&mut self, ev: StreamEvent, out: &mut Vec<Action>) {
        match ev {
            StreamEvent::Header(h) => self.on_header(&h, out),
            StreamEvent::Whitespace => {}
            StreamEvent::Close => {
                out.push(Action::Send(STREAM_CLOSE.to_vec()));
                out.push(Action::Close(None));
                self.stage = Stage::Closed;
            }
            StreamEvent::Stanza(el) => match std::mem::replace(&mut self.waiting, Waiting::Element)
            {
                Waiting::Element => self.on_element(el, out),
                Waiting::InitialResponse(m) => self.on_initial_response(m, &el, out),
                Waiting::ScramFinal(exchange) => self.on_scram_final(*exchange, &el, out),
                // The reader yields a header before anything else, and input is not read
                // while waiting for TLS or the caller.
                Waiting::Header | Waiting::Tls | Waiting::Caller(_) => {
                    self.fail(StreamError::new(DefinedCondition::BadFormat), out);
                }
            },
        }
    }

    fn on_header(&mut self, h: &StreamHeader, out: &mut Vec<Action>) {
        let host =
            h.to.as_deref()
                .and_then(|to| jid::DomainPart::new(to).ok())
                .map(|d| d.as_str().to_owned());
        let known = host.as_ref().is_some_and(|d| self.config.hosts.contains(d));
        let same = self.host.is_none() || self.host == host;
        if !known || !same {
            self.fail(StreamError::new(DefinedCondition::HostUnknown), out);
            return;
        }
        self.host = host;
        if h.xmlns != ns::JABBER_CLIENT {
            self.fail(StreamError::new(DefinedCondition::InvalidNamespace), out);
            return;
        }
        if !self.send_header(out) {
            return;
        }
        if self.tls_required_first() && !self.config.starttls_available {
            let e = StreamError::new(DefinedCondition::PolicyViolation)
                .with_text("encryption is required but not available");
            self.fail(e, out);
            return;
        }
        self.waiting = Waiting::Element;
        self.send(self.features(), out);
    }

    fn send_header(&mut self, out: &mut Vec<Action>) -> bool {
        let reply = writer::new_stream_id().and_then(|id| {
            writer::header(&StreamHeader {
                to: None,
                from: self.host.clone(),
                id: Some(id),
                version: Some("1.0".into()),
                lang: Some("en".into()),
                xmlns: ns::JABBER_CLIENT.into(),
            })
        });
        match reply {
            Ok(bytes) => {
                self.header_sent = true;
                out.push(Action::Send(bytes));
                true
            }
            Err(e) => {
                self.fail(internal(&e), out);
                false
            }
        }
    }

    fn on_element(&mut self, el: Element, out: &mut Vec<Action>) {
        let name = el.name();
        let ns = el.ns();
        match (ns.as_str(), name) {
            (ns::TLS, "starttls") => self.on_starttls(out),
            (ns::SASL, "auth") => self.on_auth(&el, out),
            (ns::SASL, "abort") => self.sasl_failure(crate::sasl::SaslError::Aborted, out),
            (ns::SASL, _) => self.sasl_failure(
                crate::sasl::parse_error("SASL", "no exchange in progress"),
                out,
            ),
            _ => match self.stage {
                Stage::Secured if self.is_registration(&el) => out.push(Action::PreAuthIq(el)),
                Stage::Connected | Stage::Secured => self.before_auth(&ns, out),
                Stage::Authenticated => self.on_authenticated_element(el, out),
                Stage::Bound => self.on_bound_element(el, out),
                Stage::Closed => {}
            },
        }
    }

    /// An in-band registration iq (XEP-0077 §3.1) on a host open to registration. Only over
    /// TLS: the password travels in it.
    fn is_registration(&self, el: &Element) -> bool {
        el.is("iq", ns::JABBER_CLIENT)
            && el.has_child("query", ns::REGISTER)
            && self
                .host
                .as_ref()
                .is_some_and(|h| self.config.registration_hosts.contains(h))
    }

    fn before_auth(&mut self, ns: &str, out: &mut Vec<Action>) {
        let condition = if ns == ns::JABBER_CLIENT {
            DefinedCondition::NotAuthorized
        } else {
            DefinedCondition::UnsupportedStanzaType
        };
        self.fail(StreamError::new(condition), out);
    }

    fn on_starttls(&mut self, out: &mut Vec<Action>) {
        if self.stage == Stage::Connected && self.config.starttls_available {
            self.send(xmpp_parsers::starttls::Proceed.into(), out);
            out.push(Action::StartTls);
            self.waiting = Waiting::Tls;
        } else {
            // RFC 6120 §5.4.2.2: <failure/>, then close.
            self.send(xmpp_parsers::starttls::Failure.into(), out);
            out.push(Action::Send(STREAM_CLOSE.to_vec()));
            out.push(Action::Close(None));
            self.stage = Stage::Closed;
        }
    }

    /// Queue an element for sending.
    fn send(&mut self, el: Element, out: &mut Vec<Action>) {
        match writer::element(&el) {
            Ok(bytes) => out.push(Action::Send(bytes)),
            Err(e) => self.fail(internal(&e), out),
        }
    }

    /// Send a stream error (after our header if none was sent yet) and close.
    fn fail(&mut self, error: StreamError, out: &mut Vec<Action>) {
        if self.stage == Stage::Closed {
            return;
        }
        // Closed first, so a failure while sending the header cannot recurse.
        self.stage = Stage::Closed;
        if !self.header_sent {
            // RFC 6120 §4.9.1.2: a stream error still needs our stream header first.
            let _ = self.send_header(out);
        }
        if let Ok(bytes) = error.to_bytes() {
            out.push(Action::Send(bytes));
        }
        out.push(Action::Send(STREAM_CLOSE.to_vec()));
        out.push(Action::Close(Some(error)));
    }
}

fn internal(e: &writer::WriteError) -> StreamError {
    StreamError::new(DefinedCondition::InternalServerError).with_text(e.to_string())
}
