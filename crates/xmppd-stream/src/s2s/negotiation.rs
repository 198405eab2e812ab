//! The negotiation elements of server-to-server streams (RFC 6120 §5 STARTTLS, §6 SASL with
//! EXTERNAL per XEP-0178), what each side offers and reads, and the content-namespace switch.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use minidom::Element;

use super::dialback;
use crate::ns;

/// The SASL mechanism servers authenticate with when certificates verify (XEP-0178).
pub const EXTERNAL: &str = "EXTERNAL";

/// What a receiving server offers in `<stream:features/>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Features {
    /// `<starttls/>` (required when we require encryption).
    pub starttls: bool,
    /// SASL EXTERNAL.
    pub external: bool,
    /// XEP-0220 dialback.
    pub dialback: bool,
}

/// Why a negotiation element was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiationError {
    #[error("reading <auth/> failed: mechanism {0:?} is not EXTERNAL")]
    Mechanism(String),
    #[error("reading <auth/> failed: the authorization identity is not base64 UTF-8")]
    Payload,
}

impl Features {
    /// `<stream:features/>` with what this stream offers.
    #[must_use]
    pub fn to_element(self) -> Element {
        let mut features = Element::builder("features", ns::STREAM).build();
        if self.starttls {
            features.append_child(
                Element::builder("starttls", ns::TLS)
                    .append(Element::builder("required", ns::TLS).build())
                    .build(),
            );
        }
        if self.external {
            features.append_child(
                Element::builder("mechanisms", ns::SASL)
                    .append(
                        Element::builder("mechanism", ns::SASL)
                            .append(EXTERNAL)
                            .build(),
                    )
                    .build(),
            );
        }
        if self.dialback {
            features.append_child(
                Element::builder("dialback", dialback::FEATURE_NS)
                    .append(Element::builder("errors", dialback::FEATURE_NS).build())
                    .build(),
            );
        }
        features
    }

    /// Reads a peer's `<stream:features/>`; `None` when `el` is something else.
    #[must_use]
    pub fn parse(el: &Element) -> Option<Self> {
        if !el.is("features", ns::STREAM) {
            return None;
        }
        let external = el.get_child("mechanisms", ns::SASL).is_some_and(|m| {
            m.children()
                .any(|c| c.is("mechanism", ns::SASL) && c.text().trim() == EXTERNAL)
        });
        Some(Self {
            starttls: el.get_child("starttls", ns::TLS).is_some(),
            external,
            dialback: el.get_child("dialback", dialback::FEATURE_NS).is_some(),
        })
    }
}

/// `<starttls/>` (initiating side).
#[must_use]
pub fn starttls() -> Element {
    Element::builder("starttls", ns::TLS).build()
}

/// `<proceed/>` (receiving side).
#[must_use]
pub fn proceed() -> Element {
    Element::builder("proceed", ns::TLS).build()
}

/// Is `el` the TLS namespace's element `name`?
#[must_use]
pub fn is_tls(el: &Element, name: &str) -> bool {
    el.is(name, ns::TLS)
}

/// Is `el` the SASL namespace's element `name` (`success`, `failure`)?
#[must_use]
pub fn is_sasl(el: &Element, name: &str) -> bool {
    el.is(name, ns::SASL)
}

/// XEP-0178 §3: `<auth mechanism='EXTERNAL'>` with our domain as authorization identity.
#[must_use]
pub fn external_auth(our_domain: &str) -> Element {
    Element::builder("auth", ns::SASL)
        .attr(rxml::xml_ncname!("mechanism").to_owned(), EXTERNAL)
        .append(STANDARD.encode(our_domain))
        .build()
}

/// Reads `<auth/>` on the receiving side: the authorization identity, `None` when empty
/// (`=`), which means "the domain of the stream header".
pub fn parse_external_auth(el: &Element) -> Result<Option<String>, NegotiationError> {
    let mechanism = el.attr("mechanism").unwrap_or_default();
    if mechanism != EXTERNAL {
        return Err(NegotiationError::Mechanism(mechanism.to_owned()));
    }
    let text: String = el
        .text()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if text.is_empty() || text == "=" {
        return Ok(None);
    }
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| NegotiationError::Payload)?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| NegotiationError::Payload)
}

/// `<success/>`.
#[must_use]
pub fn success() -> Element {
    Element::builder("success", ns::SASL).build()
}

/// `<failure><not-authorized/></failure>` (XEP-0178 §3 step 7 and RFC 6120 §6.5).
#[must_use]
pub fn failure() -> Element {
    Element::builder("failure", ns::SASL)
        .append(Element::builder("not-authorized", ns::SASL).build())
        .build()
}

/// The element with its namespace moved from `from` to `to`, and so its children in `from`,
/// recursively: stanzas travel as `jabber:server` between servers and are handled as
/// `jabber:client` inside xmppd. Children in other namespaces are left alone, with what they
/// contain (a forwarded `<message xmlns='jabber:client'/>` stays one).
#[must_use]
pub fn switch_ns(mut el: Element, from: &str, to: &str) -> Element {
    if el.ns() != from {
        return el;
    }
    let nodes = el.take_nodes();
    let mut out = Element::bare(el.name(), to);
    *out.attrs_mut() = std::mem::take(el.attrs_mut());
    for node in nodes {
        match node {
            minidom::Node::Element(child) => {
                out.append_child(switch_ns(child, from, to));
            }
            minidom::Node::Text(text) => out.append_text_node(text),
        }
    }
    out
}

/// A stanza read from a server stream, in xmppd's internal (`jabber:client`) namespace.
#[must_use]
pub fn from_server(el: Element) -> Element {
    switch_ns(el, ns::JABBER_SERVER, ns::JABBER_CLIENT)
}

/// A stanza of xmppd's, in the namespace of server streams.
#[must_use]
pub fn to_server(el: Element) -> Element {
    switch_ns(el, ns::JABBER_CLIENT, ns::JABBER_SERVER)
}

/// Is `el` a stanza (message, presence, iq) of a server stream?
#[must_use]
pub fn is_stanza(el: &Element) -> bool {
    el.ns() == ns::JABBER_SERVER && matches!(el.name(), "message" | "presence" | "iq")
}
