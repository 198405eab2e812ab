//! What the c2s state machine asks its caller to do, and the tickets the caller hands back.

use jid::FullJid;
use minidom::Element;

use crate::sasl::scram::{ScramMechanism, ScramNeedCredentials};
use crate::stream_error::StreamError;

/// One thing for the caller to do, in order.
#[derive(Debug)]
pub enum Action {
    /// Write these bytes to the peer (several in a row may be written in one batch).
    Send(Vec<u8>),
    /// `<proceed/>` was queued: write it, run the TLS handshake, then call
    /// [`super::C2s::tls_established`]. Feed no more plaintext.
    StartTls,
    /// Look up SCRAM credentials and answer with [`super::C2s::credentials`].
    LookupCredentials(CredentialsRequest),
    /// Check a PLAIN password (off the async workers: it runs PBKDF2) and answer with
    /// [`super::C2s::plain_verified`].
    VerifyPlain(PlainRequest),
    /// SASL succeeded for this (normalised) username on [`super::C2s::host`].
    Authenticated {
        /// The localpart that authenticated.
        username: String,
    },
    /// The client asks for a resource; answer with [`super::C2s::bind_result`].
    BindRequested(BindRequest),
    /// The session is bound: route stanzas for this JID from now on.
    Bound(FullJid),
    /// An in-band registration iq (XEP-0077) before authentication, on a host open to it and
    /// over TLS; the caller answers by writing the reply stanza.
    PreAuthIq(Element),
    /// A stanza (`jabber:client` message, presence or iq) from a bound client.
    Stanza(Element),
    /// A top-level element in another namespace after authentication (stream management,
    /// client state indication, ...): the extension point for the caller's modules.
    Nonza(Element),
    /// Shut the connection down once every `Send` before this one is written. `None` for an
    /// orderly close; the error is for logs (its bytes were already queued).
    Close(Option<StreamError>),
}

/// A pending SCRAM credentials lookup. Only the state machine creates these.
#[derive(Debug)]
pub struct CredentialsRequest {
    /// The normalised username (JID localpart) to look up.
    pub username: String,
    /// The mechanism in use; look up credentials of its hash family.
    pub mechanism: ScramMechanism,
    pub(super) exchange: ScramNeedCredentials,
}

/// A pending PLAIN password check. Only the state machine creates these.
///
/// For an unknown user, still run PBKDF2 (e.g. `ScramCredentials::fake(..).verify_password`)
/// so the answer takes as long as for a real one.
pub struct PlainRequest {
    /// The normalised username (JID localpart).
    pub username: String,
    /// The password as sent.
    pub password: String,
}

impl std::fmt::Debug for PlainRequest {
    // The password stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A pending resource binding request (RFC 6120 §7). Only the state machine creates these.
#[derive(Debug)]
pub struct BindRequest {
    /// The resource the client asked for (normalised), or `None` to let the server pick.
    pub resource: Option<String>,
    pub(super) iq_id: String,
}

/// Why the caller refuses a bind (RFC 6120 §7.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindRefusal {
    /// The resource is in use and the conflict policy refuses the new session.
    Conflict,
    /// The client may not bind (e.g. account disabled).
    NotAllowed,
    /// The account has reached its limit of connected resources.
    ResourceConstraint,
}

/// A credentials lookup that failed for a reason that may go away (storage down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupFailed;
