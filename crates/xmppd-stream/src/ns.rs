//! XML namespaces used by the stream layer (RFC 6120 §4.8, §5, §6, §7, §11.2; RFC 3921 §3;
//! XEP-0440).

/// The stream namespace, bound to the `stream:` prefix (RFC 6120 §4.8.1).
pub const STREAM: &str = "http://etherx.jabber.org/streams";
/// Content namespace of client-to-server streams.
pub const JABBER_CLIENT: &str = "jabber:client";
/// Content namespace of server-to-server streams.
pub const JABBER_SERVER: &str = "jabber:server";
/// Stream error conditions (RFC 6120 §4.9.3).
pub const XMPP_STREAMS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
/// STARTTLS (RFC 6120 §5).
pub const TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
/// SASL (RFC 6120 §6).
pub const SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
/// Resource binding (RFC 6120 §7).
pub const BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
/// Legacy session establishment (RFC 3921 §3, kept optional per RFC 6121 appendix E).
pub const SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
/// SASL channel-binding type capability (XEP-0440).
pub const SASL_CB: &str = "urn:xmpp:sasl-cb:0";
/// Stanza error conditions (RFC 6120 §8.3).
pub const XMPP_STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
/// XEP-0077 in-band registration queries.
pub const REGISTER: &str = "jabber:iq:register";
/// XEP-0077 §3: the stream feature announcing in-band registration.
pub const REGISTER_FEATURE: &str = "http://jabber.org/features/iq-register";
