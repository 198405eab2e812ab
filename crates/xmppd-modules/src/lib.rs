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
// XEP-0033: Extended Stanza Addressing (multicast).
pub mod xep0033_addresses;
// XEP-0049: Private XML Storage.
pub mod xep0049_private;
// XEP-0050: Ad-Hoc Commands.
pub mod xep0050_adhoc;
// XEP-0054: vcard-temp.
pub mod xep0054_vcard;
// XEP-0060: Publish-Subscribe, the subset PEP needs.
pub mod xep0060_pubsub;
// XEP-0065: SOCKS5 Bytestreams (proxy side).
pub mod xep0065_bytestreams;
// XEP-0055: Jabber Search (opt-in user directory).
pub mod xep0055_search;
// XEP-0077: In-Band Registration.
pub mod xep0077_register;
// XEP-0092: Software Version.
pub mod xep0092_version;
// XEP-0115: Entity Capabilities verification string.
pub mod xep0115_caps;
// XEP-0157: Contact Addresses for XMPP Services.
pub mod xep0157_contact;
// XEP-0133: Service Administration (admin commands).
pub mod xep0133_admin;
// XEP-0160 (+ XEP-0203, XEP-0334): offline message storage rules.
pub mod xep0160_offline;
// XEP-0163: Personal Eventing Protocol (access, notification targets, events).
pub mod xep0163_pep;
// XEP-0199: XMPP Ping.
pub mod xep0199_ping;
// XEP-0202: Entity Time.
pub mod xep0202_time;
// XEP-0280: Message Carbons.
pub mod xep0280_carbons;
// XEP-0352: Client State Indication.
pub mod xep0352_csi;
// XEP-0398: avatar conversion between XEP-0084 and XEP-0153.
pub mod xep0398_avatar;
// XEP-0402: PEP Native Bookmarks and their XEP-0048 compatibility.
pub mod xep0402_bookmarks;

// XEP-0045: Multi-User Chat rooms (one file per concern).
pub mod muc;
// XEP-0363: HTTP File Upload (slot rules and disco).
pub mod xep0363_upload;
// XEP-0313: Message Archive Management (+ XEP-0059 paging, XEP-0359 stanza ids).
pub mod xep0313_mam;
// XEP-0191: Blocking Command, evaluated by the XEP-0016 engine.
pub mod xep0191_blocking;
// XEP-0016: Privacy Lists, the one blocking engine.
pub mod xep0016_privacy;
// XEP-0357: Push Notifications.
pub mod xep0357_push;

// Server texts: message of the day at login.
pub mod motd;
// Server texts: welcome message for new accounts.
pub mod welcome;

pub use error::Error;
