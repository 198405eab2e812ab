//! xmppd-stream: the XMPP stream layer without IO.
//!
//! Bytes in, events and bytes out. The caller owns sockets and TLS; this crate owns the
//! protocol rules.
//!
//! | module | spec | job |
//! |---|---|---|
//! | [`framing`] | RFC 6120 §4, §11 | incremental XML stream reader with limits |
//! | [`framed`] | RFC 7395 §3.3, XEP-0206 | WebSocket/BOSH framing bridged to the classic stream |
//! | [`writer`] | RFC 6120 §4.2, §4.4 | stream header, close tag, element serialisation |
//! | [`stream_error`] | RFC 6120 §4.9 | typed `<stream:error/>` |
//! | [`sasl::scram`] | RFC 5802, 7677, 9266, 5929 | SCRAM server side, -PLUS channel binding |
//! | [`sasl::credentials`] | RFC 5802 §3 | stored SCRAM keys, PBKDF2 |
//! | [`sasl::plain`] | RFC 4616 | PLAIN message parsing |
//! | [`sasl::mechanisms`] | RFC 6120 §6.4.1, XEP-0440 | what to offer and how to advertise it |
//! | [`c2s`] | RFC 6120 §4–§7, XEP-0368, RFC 3921 §3 | client stream negotiation state machine |
//! | [`ns`] | RFC 6120, XEP-0440 | namespace constants |
//! | [`sm`] | XEP-0198 | stream management nonzas, counters, unacknowledged queue |
//! | [`s2s`] | RFC 6120 `jabber:server`, XEP-0178, XEP-0220, XEP-0185 | server stream negotiation elements, dialback keys |
//!
//! Driving a client connection (the caller's connection task does the IO):
//!
//! ```
//! use std::sync::Arc;
//! use xmppd_stream::sasl::{mechanisms::Mechanism, scram::UnknownUserKey};
//! use xmppd_stream::{Action, C2s, C2sConfig, Limits, Stage, Transport};
//!
//! let config = Arc::new(C2sConfig {
//!     hosts: ["example.com".to_owned()].into(),
//!     limits: Limits::default(),
//!     require_encryption: true,
//!     starttls_available: true,
//!     mechanisms: Mechanism::all(),
//!     plain_allowed: false,
//!     max_auth_failures: 3,
//!     unknown_user: UnknownUserKey::generate(4096).unwrap(),
//!     extra_features: Vec::new(),
//!     registration_hosts: Default::default(),
//! });
//! let mut c2s = C2s::new(config, Transport::Plain);
//! let actions = c2s.feed(b"<stream:stream xmlns='jabber:client' \
//!     xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>");
//! for action in actions {
//!     match action {
//!         Action::Send(bytes) => { /* queue for the socket; flush once per batch */ }
//!         Action::StartTls => { /* handshake, then c2s.tls_established(binding) */ }
//!         Action::LookupCredentials(req) => { /* storage, then c2s.credentials(req, ..) */ }
//!         Action::VerifyPlain(req) => { /* spawn_blocking, then c2s.plain_verified(req, ..) */ }
//!         Action::BindRequested(req) => { /* router, then c2s.bind_result(req, ..) */ }
//!         Action::Authenticated { .. } | Action::Bound(_) => { /* bookkeeping */ }
//!         Action::Stanza(_) | Action::Nonza(_) => { /* route / hand to modules */ }
//!         Action::PreAuthIq(_) => { /* in-band registration, answered by the caller */ }
//!         Action::Close(_) => { /* write what is queued, then shut down */ }
//!     }
//! }
//! assert_eq!(c2s.stage(), Stage::Connected);
//! ```

pub mod c2s;
pub mod framed;
pub mod framing;
pub mod ns;
pub mod s2s;
pub mod sasl;
pub mod sm;
pub mod stream_error;
pub mod writer;

pub use c2s::{Action, C2s, C2sConfig, Stage, Transport};
pub use framing::{FramingError, Limits, StreamEvent, StreamHeader, StreamReader};
pub use stream_error::{DefinedCondition, StreamError};
pub use writer::{STREAM_CLOSE, WriteError};
