//! Server-to-server streams (RFC 6120 `jabber:server`) without IO: the elements both sides
//! exchange while negotiating, the XEP-0220 dialback elements with XEP-0185 keys, and the
//! namespace switch between `jabber:server` on the wire and `jabber:client` inside xmppd.
//!
//! The order of negotiation (STARTTLS, then SASL EXTERNAL or dialback) is driven by the
//! connection tasks in `xmppd-core/src/s2s/`; everything they parse or send is built here.

pub mod dialback;
pub mod negotiation;

pub use dialback::{Dialback, DialbackError, DialbackKind, Verdict};
pub use negotiation::{Features, NegotiationError};

#[cfg(test)]
mod tests;
