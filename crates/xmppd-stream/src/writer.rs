//! Stream serialisation (RFC 6120 §4.2 opening, §4.4 closing, §4.8 namespaces).
//!
//! Everything goes through rxml's encoder, never through string formatting, so attribute
//! values and text are always escaped. Elements are written as they appear inside an open
//! stream: the `stream:` prefix and the content namespace are already declared by the header,
//! so `<stream:features>` and `<message>` come out without redundant declarations.

use base64::Engine as _;
use minidom::{Element, Node};
use rxml::writer::{SimpleNamespaces, TrackNamespace};
use rxml::{Encoder, Item, Namespace, NcNameStr, XmlVersion};

use crate::framing::StreamHeader;
use crate::ns;

/// The closing tag of a stream (RFC 6120 §4.4). A test checks it equals what the encoder
/// produces for the header it closes.
pub const STREAM_CLOSE: &[u8] = b"</stream:stream>";

/// Why serialising failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// An element or attribute name is not a valid XML name.
    #[error("serialising failed: invalid XML name {0:?}")]
    Name(String),
    /// The encoder refused the item (invalid characters in text or attribute values).
    #[error("serialising failed: {0}")]
    Encode(rxml::Error),
    /// The operating system could not give us random bytes for a stream id.
    #[error("generating a stream id failed: {0}")]
    Random(getrandom::Error),
}

/// A fresh, unguessable stream id (RFC 6120 §4.7.3 wants it unique and unpredictable).
pub fn new_stream_id() -> Result<String, WriteError> {
    let mut bytes = [0u8; 15];
    getrandom::fill(&mut bytes).map_err(WriteError::Random)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn prefix() -> &'static NcNameStr {
    // "stream" is a valid NCName; the conversion cannot fail.
    NcNameStr::from_str("stream").unwrap_or_else(|_| unreachable!())
}

fn name(s: &str) -> Result<&NcNameStr, WriteError> {
    NcNameStr::from_str(s).map_err(|_| WriteError::Name(s.to_owned()))
}

/// The XML declaration and opening `<stream:stream>` tag for `header`.
pub fn header(header: &StreamHeader) -> Result<Vec<u8>, WriteError> {
    header_declaring(header, None)
}

/// As [`header`], for a server stream that also declares the dialback namespace on the
/// `db:` prefix (XEP-0220 §2.1: older servers look for it there).
pub fn header_s2s(header: &StreamHeader) -> Result<Vec<u8>, WriteError> {
    header_declaring(header, Some(("db", crate::s2s::dialback::NS)))
}

fn header_declaring(
    header: &StreamHeader,
    extra: Option<(&str, &str)>,
) -> Result<Vec<u8>, WriteError> {
    let mut out = Vec::with_capacity(256);
    let mut enc = Encoder::new();
    let put = |enc: &mut Encoder<SimpleNamespaces>, item, out: &mut Vec<u8>| {
        enc.encode(item, out).map_err(WriteError::Encode)
    };
    put(&mut enc, Item::XmlDeclaration(XmlVersion::V1_0), &mut out)?;
    let tracker = enc.ns_tracker_mut();
    tracker.declare_fixed(Some(prefix()), Namespace::from(ns::STREAM));
    tracker.declare_fixed(None, Namespace::from(header.xmlns.clone()));
    if let Some((prefix, ns)) = extra {
        tracker.declare_fixed(Some(name(prefix)?), Namespace::from(ns.to_owned()));
    }
    put(
        &mut enc,
        Item::ElementHeadStart(Namespace::from(ns::STREAM), name("stream")?),
        &mut out,
    )?;
    let attrs = [
        ("id", &header.id),
        ("from", &header.from),
        ("to", &header.to),
        ("version", &header.version),
    ];
    for (key, value) in attrs {
        if let Some(value) = value {
            put(
                &mut enc,
                Item::Attribute(Namespace::none().clone(), name(key)?, value),
                &mut out,
            )?;
        }
    }
    if let Some(lang) = &header.lang {
        put(
            &mut enc,
            Item::Attribute(Namespace::xml().clone(), name("lang")?, lang),
            &mut out,
        )?;
    }
    put(&mut enc, Item::ElementHeadEnd, &mut out)?;
    Ok(out)
}

/// Serialise one top-level element of a `jabber:client` stream.
pub fn element(el: &Element) -> Result<Vec<u8>, WriteError> {
    element_in(el, ns::JABBER_CLIENT)
}

/// Serialise one top-level element as it appears inside a stream whose content namespace is
/// `content_ns`. Done once per stanza; the bytes can then be shared by every recipient.
pub fn element_in(el: &Element, content_ns: &str) -> Result<Vec<u8>, WriteError> {
    let mut enc = Encoder::new();
    // Pretend the stream header is the parent: its declarations are in scope.
    let tracker = enc.ns_tracker_mut();
    tracker.declare_fixed(Some(prefix()), Namespace::from(ns::STREAM));
    tracker.declare_fixed(None, Namespace::from(content_ns.to_owned()));
    if content_ns == ns::JABBER_SERVER {
        // Server streams declare `db:` in their header (`header_s2s`), and peers whose parsers
        // match on the qualified name (ejabberd's `db:result`) need the prefix used.
        tracker.declare_fixed(
            Some(name("db")?),
            Namespace::from(crate::s2s::dialback::NS.to_owned()),
        );
    }
    tracker.push();
    let mut out = Vec::with_capacity(128);
    write(&mut enc, el, &mut out)?;
    Ok(out)
}

fn write(
    enc: &mut Encoder<SimpleNamespaces>,
    el: &Element,
    out: &mut Vec<u8>,
) -> Result<(), WriteError> {
    let ns = el.ns();
    enc.encode(
        Item::ElementHeadStart(Namespace::from(ns.as_str()), name(el.name())?),
        out,
    )
    .map_err(WriteError::Encode)?;
    for ((attr_ns, key), value) in el.attrs() {
        enc.encode(Item::Attribute(attr_ns.borrow(), key, value), out)
            .map_err(WriteError::Encode)?;
    }
    // Empty text nodes (typed builders leave them) would turn `<x/>` into `<x></x>`.
    let has_content = el
        .nodes()
        .any(|n| !matches!(n, Node::Text(t) if t.is_empty()));
    if has_content {
        enc.encode(Item::ElementHeadEnd, out)
            .map_err(WriteError::Encode)?;
        for node in el.nodes() {
            match node {
                Node::Element(child) => write(enc, child, out)?,
                Node::Text(text) if text.is_empty() => {}
                Node::Text(text) => enc
                    .encode(Item::Text(text), out)
                    .map_err(WriteError::Encode)?,
            }
        }
    }
    enc.encode(Item::ElementFoot, out)
        .map_err(WriteError::Encode)
}

/// Serialise `el` as a document of its own, every namespace it uses declared on it: one
/// RFC 7395 WebSocket message, or a child of a XEP-0206 `<body/>`. Stream-namespace elements
/// keep the `stream:` prefix, which some web clients look elements up by; it is declared on the
/// root when the root or one of its children (`<stream:features/>` in a BOSH body) uses it.
pub fn standalone(el: &Element) -> Result<Vec<u8>, WriteError> {
    let mut enc = Encoder::new();
    if el.ns() == ns::STREAM || el.children().any(|c| c.ns() == ns::STREAM) {
        enc.ns_tracker_mut()
            .declare_fixed(Some(prefix()), Namespace::from(ns::STREAM));
    }
    let mut out = Vec::with_capacity(128);
    write(&mut enc, el, &mut out)?;
    Ok(out)
}
