//! Pure, IO-free XMPP server rules: RFC 6121 instant messaging and presence, and the small XEPs.
//!
//! Every function takes typed input (xmpp-parsers, jid and minidom types, or small snapshots
//! of server state such as [`rfc6121::presence::ResourceSnapshot`]) and returns a typed
//! decision; the caller (`xmppd-core`) does the IO: storage, routing, sending. Nothing here
//! knows about sockets, tasks or databases. Refusals are [`Error`] values, and
//! [`stanza_error`] turns any of them into the stanza error reply.
//!
//! Table of contents, one file per specification:

// Shared: the crate's error enum and RFC 6120 stanza semantics.
mod error;
// RFC 6120 §8.2.3: IQ result replies.
pub mod iq;
// RFC 6120 §8.3: stanza error replies.
pub mod stanza_error;

// RFC 6121: subscription state machine, roster, presence, local delivery.
pub mod rfc6121;

// XEP-0012: Last Activity.
pub mod xep0012_last;
// XEP-0030 (+ XEP-0128): Service Discovery registry.
pub mod xep0030_disco;
// XEP-0049: Private XML Storage.
pub mod xep0049_private;
// XEP-0054: vcard-temp.
pub mod xep0054_vcard;
// XEP-0077: In-Band Registration.
pub mod xep0077_register;
// XEP-0092: Software Version.
pub mod xep0092_version;
// XEP-0115: Entity Capabilities verification string.
pub mod xep0115_caps;
// XEP-0160 (+ XEP-0203, XEP-0334): offline message storage rules.
pub mod xep0160_offline;
// XEP-0199: XMPP Ping.
pub mod xep0199_ping;
// XEP-0202: Entity Time.
pub mod xep0202_time;
// XEP-0280: Message Carbons.
pub mod xep0280_carbons;
// XEP-0352: Client State Indication.
pub mod xep0352_csi;
// XEP-0357: Push Notifications.
pub mod xep0357_push;

// Server texts: message of the day at login.
pub mod motd;
// Server texts: welcome message for new accounts.
pub mod welcome;

pub use error::Error;
