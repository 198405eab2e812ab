//! Incremental XML stream reader (RFC 6120 §4: XML streams, §4.7 stream attributes, §11 XML
//! usage).
//!
//! Bytes go in, [`StreamEvent`]s come out; no IO. Built on rxml's restricted parser, which
//! already refuses DTDs, entity declarations, processing instructions and comments
//! (RFC 6120 §11.1). On top of that we enforce per-stanza byte, depth and attribute limits so
//! one peer cannot make us buffer without bound.

use minidom::Element;
use rxml::error::EndOrError;
use rxml::{AttrMap, Event, Namespace, Parse, Parser, RawEvent, RawParser, WithOptions};
use xmpp_parsers::stream_error::DefinedCondition;

use crate::ns;
use crate::stream_error::StreamError;

/// Bytes a stream header (with any XML declaration before it) may take, even when the stanza
/// limit is smaller.
pub const MIN_HEADER_BYTES: usize = 4096;

/// Resource limits for one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum bytes of one top-level element (stanza or nonza), including whitespace before it.
    pub max_stanza_bytes: usize,
    /// Maximum nesting depth inside one top-level element (the top-level element is depth 1).
    pub max_depth: usize,
    /// Maximum attributes on any single element.
    pub max_attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_stanza_bytes: 256 * 1024,
            max_depth: 32,
            max_attributes: 64,
        }
    }
}

/// The attributes of a `<stream:stream>` opening tag (RFC 6120 §4.7).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamHeader {
    /// `to`: the domain the initiator wants to reach.
    pub to: Option<String>,
    /// `from`: the initiator's claimed address.
    pub from: Option<String>,
    /// `id`: set by the responding entity only.
    pub id: Option<String>,
    /// `version`: must be `1.0` for everything we speak.
    pub version: Option<String>,
    /// `xml:lang`: the default language of the stream.
    pub lang: Option<String>,
    /// The content namespace (the default namespace declared on the header):
    /// `jabber:client` or `jabber:server`.
    pub xmlns: String,
}

/// One thing read from the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The opening `<stream:stream>` tag.
    Header(StreamHeader),
    /// A complete top-level child of the stream (stanza or nonza), namespaces resolved.
    Stanza(Element),
    /// Whitespace between top-level elements (a keepalive, RFC 6120 §4.6.1).
    Whitespace,
    /// The closing `</stream:stream>` tag.
    Close,
}

/// Why reading the stream failed; each maps to an RFC 6120 §4.9.3 stream error condition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FramingError {
    /// The XML parser rejected the bytes (syntax, namespaces, DTD, entities, comments...).
    #[error("parsing the stream failed: {0}")]
    Parse(rxml::Error),
    /// A top-level element grew beyond the byte limit.
    #[error("reading a stanza failed: larger than {limit} bytes")]
    StanzaTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// Elements nested deeper than the limit.
    #[error("reading a stanza failed: nested deeper than {limit}")]
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
    /// An element carried more attributes than the limit.
    #[error("reading an element failed: more than {limit} attributes")]
    TooManyAttributes {
        /// The configured limit.
        limit: usize,
    },
    /// The root element was not `{http://etherx.jabber.org/streams}stream`.
    #[error("reading the stream header failed: root is not a stream in the streams namespace")]
    HeaderNamespace,
    /// The header declared no content namespace, or one we do not speak.
    #[error("reading the stream header failed: content namespace {0:?} is not supported")]
    ContentNamespace(String),
    /// The header's version is missing or not 1.x.
    #[error("reading the stream header failed: version {0:?} is not supported")]
    Version(Option<String>),
    /// Character data other than whitespace appeared between top-level elements.
    #[error("reading between stanzas failed: text at stream level")]
    TextAtStreamLevel,
}

impl FramingError {
    /// The RFC 6120 §4.9.3 stream error condition to send for this failure.
    #[must_use]
    pub fn condition(&self) -> DefinedCondition {
        match self {
            // RFC 6120 §11.1: comments, processing instructions and DTDs are not bad XML but
            // XML a stream must not carry.
            // Our token limit (MAX_TOKEN_BYTES) surfaces as rxml's "long name or reference".
            Self::Parse(rxml::Error::RestrictedXml(what)) if what.starts_with("long") => {
                DefinedCondition::PolicyViolation
            }
            Self::Parse(rxml::Error::RestrictedXml(_)) => DefinedCondition::RestrictedXml,
            Self::Parse(_) => DefinedCondition::NotWellFormed,
            Self::StanzaTooLarge { .. } | Self::TooDeep { .. } | Self::TooManyAttributes { .. } => {
                DefinedCondition::PolicyViolation
            }
            Self::HeaderNamespace | Self::ContentNamespace(_) => DefinedCondition::InvalidNamespace,
            Self::Version(_) => DefinedCondition::UnsupportedVersion,
            Self::TextAtStreamLevel => DefinedCondition::BadFormat,
        }
    }

    /// The stream error to send before closing.
    #[must_use]
    pub fn to_stream_error(&self) -> StreamError {
        StreamError::new(self.condition()).with_text(self.to_string())
    }
}

/// Incremental reader for one XML stream.
///
/// Holds no input buffer of its own: rxml keeps only the partial token it is inside, and the
/// element under construction; both are released between stanzas.
#[derive(Debug)]
pub struct StreamReader {
    limits: Limits,
    parser: Parser,
    /// Sees the same bytes as `parser` until the header is complete, because the resolved
    /// events of `parser` hide namespace declarations and we need the header's default one.
    header_sniffer: Option<Box<HeaderSniffer>>,
    /// Elements under construction, outermost first (empty between stanzas).
    stack: Vec<Element>,
    /// Bytes consumed since the last top-level boundary.
    pending_bytes: usize,
    state: ReaderState,
}

#[derive(Debug, Clone, PartialEq)]
enum ReaderState {
    BeforeHeader,
    Open,
    Closed,
    Failed(FramingError),
}

#[derive(Debug, Default)]
struct HeaderSniffer {
    raw: RawParser,
    default_ns: Option<String>,
    done: bool,
}

impl HeaderSniffer {
    fn feed(&mut self, mut data: &[u8]) {
        while !self.done {
            match self.raw.parse(&mut data, false) {
                Ok(Some(RawEvent::Attribute(_, (None, name), value))) if name == "xmlns" => {
                    self.default_ns = Some(value.to_string());
                }
                Ok(Some(RawEvent::ElementHeadClose(_))) => self.done = true,
                Ok(Some(_)) => {}
                // Errors surface through the real parser, which sees the same bytes.
                Ok(None) | Err(_) => return,
            }
        }
    }
}

/// The longest name or attribute value a stream may carry (longer text is split, not refused).
/// rxml reserves a scratch buffer of this size while it reads a stanza (we release it between
/// stanzas), so it is a per-session memory cost under load; its default (8 KiB) doubles it. The longest legal attribute
/// value in XMPP is a JID of 3071 bytes (RFC 7622 §3.1).
pub const MAX_TOKEN_BYTES: usize = 4096;

impl StreamReader {
    /// A reader expecting a fresh `<stream:stream>` header.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        let mut parser = Parser::with_options(rxml::Options {
            max_token_length: MAX_TOKEN_BYTES,
            ..rxml::Options::default()
        });
        // Report text (and so whitespace keepalives) as soon as it arrives rather than
        // holding it in the lexer until the next `<`.
        parser.set_text_buffering(false);
        Self {
            limits,
            parser,
            header_sniffer: Some(Box::default()),
            stack: Vec::new(),
            pending_bytes: 0,
            state: ReaderState::BeforeHeader,
        }
    }

    /// Forget everything and expect a new stream header (after STARTTLS and SASL success,
    /// RFC 6120 §5.4.3.3 and §6.4.6).
    pub fn reset(&mut self) {
        *self = Self::new(self.limits);
    }

    /// Whether `</stream:stream>` was read.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.state == ReaderState::Closed
    }

    /// Parse all of `data` and return the events it completes. Errors are sticky: after one,
    /// every later call returns it again.
    ///
    /// Use [`StreamReader::next_event`] instead when the stream may restart in the middle of
    /// `data` (after SASL success), so the rest can go to the reset reader.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<Vec<StreamEvent>, FramingError> {
        let mut out = Vec::new();
        while let Some(ev) = self.next_event(&mut data)? {
            out.push(ev);
        }
        Ok(out)
    }

    /// Parse from the front of `data` until one event completes (returned, `data` advanced
    /// past it) or `data` is used up (`None`; partial input is kept inside the parser).
    pub fn next_event(&mut self, data: &mut &[u8]) -> Result<Option<StreamEvent>, FramingError> {
        match &self.state {
            ReaderState::Failed(e) => return Err(e.clone()),
            // The peer has closed; whatever follows is not ours to read.
            ReaderState::Closed => {
                *data = &[];
                return Ok(None);
            }
            ReaderState::BeforeHeader | ReaderState::Open => {}
        }
        match self.parse_one(data) {
            Ok(Some(ev)) => {
                // A stanza that ends the input (often the last one before the caller must
                // answer, as bind does) leaves the stream idle too: the caller may not feed
                // us again until the client writes, so release now rather than on that read.
                if data.is_empty() {
                    self.release_if_idle();
                }
                Ok(Some(ev))
            }
            Ok(None) => {
                self.release_if_idle();
                Ok(None)
            }
            Err(e) => {
                self.state = ReaderState::Failed(e.clone());
                self.stack = Vec::new();
                Err(e)
            }
        }
    }

    /// Idle between stanzas: give the lexer's scratch memory and the element stack's
    /// capacity back (ARCHITECTURE: memory per session).
    fn release_if_idle(&mut self) {
        if self.stack.is_empty() {
            self.parser.release_temporaries();
            self.stack = Vec::new();
        }
    }

    fn parse_one(&mut self, data: &mut &[u8]) -> Result<Option<StreamEvent>, FramingError> {
        while self.state != ReaderState::Closed {
            let before = *data;
            let result = self.parser.parse(data, false);
            let consumed = &before[..before.len() - data.len()];
            if let Some(sniffer) = self.header_sniffer.as_mut() {
                sniffer.feed(consumed);
            }
            self.pending_bytes += consumed.len();
            if self.pending_bytes > self.byte_limit() {
                return Err(FramingError::StanzaTooLarge {
                    limit: self.byte_limit(),
                });
            }
            match result {
                Ok(Some(ev)) => {
                    if let Some(out) = self.handle(ev)? {
                        return Ok(Some(out));
                    }
                }
                Ok(None) | Err(EndOrError::NeedMoreData) => return Ok(None),
                Err(EndOrError::Error(e)) => return Err(FramingError::Parse(e)),
            }
        }
        Ok(None)
    }

    /// A stream header may always use [`MIN_HEADER_BYTES`], whatever the stanza limit.
    fn byte_limit(&self) -> usize {
        match self.state {
            ReaderState::BeforeHeader => self.limits.max_stanza_bytes.max(MIN_HEADER_BYTES),
            _ => self.limits.max_stanza_bytes,
        }
    }

    fn handle(&mut self, ev: Event) -> Result<Option<StreamEvent>, FramingError> {
        match ev {
            Event::XmlDeclaration(..) => {}
            Event::StartElement(_, (ns, name), attrs) => {
                if attrs.len() > self.limits.max_attributes {
                    return Err(FramingError::TooManyAttributes {
                        limit: self.limits.max_attributes,
                    });
                }
                if self.state == ReaderState::BeforeHeader {
                    let header = self.header(&ns, name.as_str(), &attrs)?;
                    self.state = ReaderState::Open;
                    self.pending_bytes = 0;
                    return Ok(Some(StreamEvent::Header(header)));
                } else {
                    if self.stack.len() >= self.limits.max_depth {
                        return Err(FramingError::TooDeep {
                            limit: self.limits.max_depth,
                        });
                    }
                    let mut el = Element::bare(name.as_str(), ns.as_str());
                    *el.attrs_mut() = attrs;
                    self.stack.push(el);
                }
            }
            Event::EndElement(_) => match self.stack.pop() {
                None => {
                    self.state = ReaderState::Closed;
                    return Ok(Some(StreamEvent::Close));
                }
                Some(el) => match self.stack.last_mut() {
                    Some(parent) => {
                        parent.append_child(el);
                    }
                    None => {
                        self.pending_bytes = 0;
                        return Ok(Some(StreamEvent::Stanza(el)));
                    }
                },
            },
            Event::Text(_, text) => match self.stack.last_mut() {
                Some(el) => el.append_text(text),
                None if text
                    .bytes()
                    .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) =>
                {
                    self.pending_bytes = 0;
                    return Ok(Some(StreamEvent::Whitespace));
                }
                None => return Err(FramingError::TextAtStreamLevel),
            },
        }
        Ok(None)
    }

    fn header(
        &mut self,
        ns: &Namespace<'_>,
        name: &str,
        attrs: &AttrMap,
    ) -> Result<StreamHeader, FramingError> {
        if ns.as_str() != ns::STREAM || name != "stream" {
            return Err(FramingError::HeaderNamespace);
        }
        let xmlns = self
            .header_sniffer
            .take()
            .and_then(|s| s.default_ns)
            .unwrap_or_default();
        if xmlns != ns::JABBER_CLIENT && xmlns != ns::JABBER_SERVER {
            return Err(FramingError::ContentNamespace(xmlns));
        }
        let get = |name: &str| attrs.get(Namespace::none(), name).cloned();
        let version = get("version");
        let major = version
            .as_deref()
            .and_then(|v| v.split_once('.'))
            .map(|(major, _)| major);
        if major != Some("1") {
            return Err(FramingError::Version(version));
        }
        Ok(StreamHeader {
            to: get("to"),
            from: get("from"),
            id: get("id"),
            version,
            lang: attrs.get(Namespace::xml(), "lang").cloned(),
            xmlns,
        })
    }
}
