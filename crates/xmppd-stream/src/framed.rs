//! RFC 7395 §3.3 (XMPP over WebSocket) framing, also used for XEP-0206 (XMPP over BOSH)
//! payloads: the stream as standalone elements instead of one long document.
//!
//! The negotiation state machine ([`crate::c2s`]) speaks the classic stream. A bridge sits
//! between it and a framed transport: client frames become stream bytes with [`to_stream`],
//! and [`ServerFrames`] turns the stream bytes the server writes back into frames. So every
//! transport shares one negotiation, and nothing here knows about sockets.

use minidom::Element;
use rxml::xml_ncname;

use crate::framing::{FramingError, Limits, StreamEvent, StreamHeader, StreamReader};
use crate::ns;
use crate::writer::{self, STREAM_CLOSE, WriteError};

/// The RFC 7395 framing namespace of `<open/>` and `<close/>`.
pub const FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";

/// One unit of a framed stream, in either direction.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `<open/>`: stands for the stream header.
    Open(StreamHeader),
    /// A stanza or nonza.
    Element(Element),
    /// `<close/>`: stands for `</stream:stream>`.
    Close,
}

/// Parses one standalone element (a WebSocket message, a BOSH `<body/>`) under `limits`.
/// Text or a second element after it are refused: one message carries one element.
pub fn parse_element(bytes: &[u8], limits: Limits) -> Result<Element, FramingError> {
    let mut reader = StreamReader::new(limits);
    // A synthetic stream header gives the element the context the stream reader expects;
    // children without a namespace of their own default to jabber:client, as in a stream.
    let header = writer::header(&StreamHeader {
        version: Some("1.0".into()),
        xmlns: ns::JABBER_CLIENT.into(),
        ..StreamHeader::default()
    })
    .map_err(|_| FramingError::HeaderNamespace)?;
    reader.feed(&header)?;
    let mut found = None;
    for event in reader.feed(bytes)? {
        match event {
            StreamEvent::Stanza(el) if found.is_none() => found = Some(el),
            StreamEvent::Whitespace => {}
            _ => return Err(FramingError::TextAtStreamLevel),
        }
    }
    // Anything still open inside the message is incomplete.
    match reader.feed(STREAM_CLOSE)?.as_slice() {
        [StreamEvent::Close] => {}
        _ => return Err(FramingError::TextAtStreamLevel),
    }
    found.ok_or(FramingError::TextAtStreamLevel)
}

/// A client's WebSocket message as a frame.
pub fn parse_message(bytes: &[u8], limits: Limits) -> Result<Frame, FramingError> {
    let el = parse_element(bytes, limits)?;
    if el.is("open", FRAMING) {
        let attr = |name: &str| el.attr(name).map(str::to_owned);
        Ok(Frame::Open(StreamHeader {
            to: attr("to"),
            from: attr("from"),
            id: None,
            version: attr("version"),
            lang: el
                .attr_ns(rxml::Namespace::xml().as_str(), "lang")
                .map(str::to_owned),
            xmlns: ns::JABBER_CLIENT.into(),
        }))
    } else if el.is("close", FRAMING) {
        Ok(Frame::Close)
    } else {
        Ok(Frame::Element(el))
    }
}

/// Client to server: the stream bytes the negotiation expects for `frame`. The header's
/// version and addresses are checked there, exactly as for TCP clients.
pub fn to_stream(frame: &Frame) -> Result<Vec<u8>, WriteError> {
    match frame {
        Frame::Open(header) => writer::header(header),
        Frame::Element(el) => writer::element(el),
        Frame::Close => Ok(STREAM_CLOSE.to_vec()),
    }
}

/// Server to client: the `<open/>` or `<close/>` element, or the element itself.
#[must_use]
pub fn to_element(frame: &Frame) -> Element {
    match frame {
        Frame::Open(header) => {
            let mut open = Element::builder("open", FRAMING).build();
            let attrs = [
                (xml_ncname!("from"), &header.from),
                (xml_ncname!("id"), &header.id),
                (xml_ncname!("version"), &header.version),
            ];
            for (name, value) in attrs {
                if let Some(value) = value {
                    open.set_attr(rxml::Namespace::NONE, name.to_owned(), value.clone());
                }
            }
            if let Some(lang) = &header.lang {
                open.set_attr(
                    rxml::Namespace::xml().clone(),
                    xml_ncname!("lang").to_owned(),
                    lang.clone(),
                );
            }
            open
        }
        Frame::Element(el) => el.clone(),
        Frame::Close => Element::builder("close", FRAMING).build(),
    }
}

/// Server to client: one WebSocket message for `frame`.
pub fn to_message(frame: &Frame) -> Result<Vec<u8>, WriteError> {
    match frame {
        Frame::Element(el) => writer::standalone(el),
        other => writer::standalone(&to_element(other)),
    }
}

/// Reads what the server writes to a classic stream and yields it as frames.
#[derive(Debug)]
pub struct ServerFrames {
    reader: StreamReader,
    /// Set after `<success/>`: the server's next bytes start a new stream (RFC 6120 §6.4.6).
    restart: bool,
}

impl ServerFrames {
    /// A reader of the server's side of one stream. The server is trusted, so the limits
    /// only guard against bugs; make them larger than any client's.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self {
            reader: StreamReader::new(limits),
            restart: false,
        }
    }

    /// Bytes the server wrote; returns the frames they complete. Whitespace keepalives are
    /// dropped: framed transports have their own.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<Vec<Frame>, FramingError> {
        let mut out = Vec::new();
        loop {
            if self.restart {
                self.reader.reset();
                self.restart = false;
            }
            match self.reader.next_event(&mut data)? {
                None => return Ok(out),
                Some(StreamEvent::Header(header)) => out.push(Frame::Open(header)),
                Some(StreamEvent::Stanza(el)) => {
                    self.restart = el.is("success", ns::SASL);
                    out.push(Frame::Element(el));
                }
                Some(StreamEvent::Whitespace) => {}
                Some(StreamEvent::Close) => out.push(Frame::Close),
            }
        }
    }
}
