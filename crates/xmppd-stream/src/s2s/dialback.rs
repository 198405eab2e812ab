//! Server dialback (XEP-0220) elements and dialback keys (XEP-0185).
//!
//! `<db:result/>` asks the receiving server to accept a domain on a stream (key inside), and
//! answers that request (`type`); `<db:verify/>` asks the authoritative server whether a key
//! is its own, and carries the answer.

use minidom::Element;

use crate::sasl::credentials::ScramHash;

/// The dialback namespace (XEP-0220 §2.1).
pub const NS: &str = "jabber:server:dialback";
/// The stream feature that announces dialback (XEP-0220 §2.1, with error support).
pub const FEATURE_NS: &str = "urn:xmpp:features:dialback";

/// Longest key we accept: a hex SHA-256 HMAC is 64 characters; other servers' keys are longer
/// at most by a little (Prosody and ejabberd use the same construction).
const MAX_KEY_LEN: usize = 256;

/// XEP-0185 §3: `hex(HMAC-SHA256(hex(SHA256(secret)), receiving ' ' originating ' ' id))`;
/// the hashed secret is used in its hex form, as in the XEP's example and in Prosody.
#[must_use]
pub fn key(secret: &[u8], receiving: &str, originating: &str, stream_id: &str) -> String {
    let hashed = hex(&ScramHash::Sha256.hash(secret));
    let text = format!("{receiving} {originating} {stream_id}");
    hex(&ScramHash::Sha256.hmac(hashed.as_bytes(), text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Which of the two dialback elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialbackKind {
    /// `<db:result/>`: between originating and receiving server.
    Result,
    /// `<db:verify/>`: between receiving and authoritative server.
    Verify,
}

/// The answer a dialback element carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
    /// XEP-0220 §2.4: the request could not be processed (`type='error'`).
    Error,
}

/// One dialback element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialback {
    pub kind: DialbackKind,
    pub from: String,
    pub to: String,
    /// Stream id the key was made for; `<db:verify/>` only.
    pub id: Option<String>,
    /// The key (requests); `None` in answers.
    pub key: Option<String>,
    /// The verdict (answers); `None` in requests.
    pub verdict: Option<Verdict>,
}

/// Why a dialback element was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialbackError {
    #[error("reading a dialback element failed: not <result/> or <verify/> in {NS}")]
    NotDialback,
    #[error("reading a dialback element failed: attribute {0} is missing")]
    Missing(&'static str),
    #[error("reading a dialback element failed: unknown type {0:?}")]
    Type(String),
    #[error("reading a dialback element failed: key longer than {MAX_KEY_LEN} bytes")]
    KeyTooLong,
}

impl Dialback {
    /// A request asking `to` to accept `from` with `key`.
    #[must_use]
    pub fn result_request(from: &str, to: &str, key: String) -> Self {
        Self {
            kind: DialbackKind::Result,
            from: from.to_owned(),
            to: to.to_owned(),
            id: None,
            key: Some(key),
            verdict: None,
        }
    }

    /// A request asking the authoritative server `to` whether `key` for stream `id` is its own.
    #[must_use]
    pub fn verify_request(from: &str, to: &str, id: &str, key: String) -> Self {
        Self {
            kind: DialbackKind::Verify,
            from: from.to_owned(),
            to: to.to_owned(),
            id: Some(id.to_owned()),
            key: Some(key),
            verdict: None,
        }
    }

    /// The answer to this request: addresses swapped, the key dropped.
    #[must_use]
    pub fn answer(&self, verdict: Verdict) -> Self {
        Self {
            kind: self.kind,
            from: self.to.clone(),
            to: self.from.clone(),
            id: self.id.clone(),
            key: None,
            verdict: Some(verdict),
        }
    }

    /// Parses `<db:result/>` or `<db:verify/>`.
    pub fn parse(el: &Element) -> Result<Self, DialbackError> {
        let kind = match el.name() {
            "result" if el.ns() == NS => DialbackKind::Result,
            "verify" if el.ns() == NS => DialbackKind::Verify,
            _ => return Err(DialbackError::NotDialback),
        };
        let attr = |name: &'static str| {
            el.attr(name)
                .map(str::to_owned)
                .ok_or(DialbackError::Missing(name))
        };
        let verdict = match el.attr("type") {
            None => None,
            Some("valid") => Some(Verdict::Valid),
            Some("invalid") => Some(Verdict::Invalid),
            Some("error") => Some(Verdict::Error),
            Some(other) => return Err(DialbackError::Type(other.to_owned())),
        };
        let text = el.text();
        let key = match text.trim() {
            "" => None,
            _ if text.len() > MAX_KEY_LEN => return Err(DialbackError::KeyTooLong),
            trimmed => Some(trimmed.to_owned()),
        };
        let id = match kind {
            DialbackKind::Verify => Some(attr("id")?),
            DialbackKind::Result => None,
        };
        Ok(Self {
            kind,
            from: attr("from")?,
            to: attr("to")?,
            id,
            key,
            verdict,
        })
    }

    /// The element, in the dialback namespace.
    #[must_use]
    pub fn to_element(&self) -> Element {
        let name = match self.kind {
            DialbackKind::Result => "result",
            DialbackKind::Verify => "verify",
        };
        let mut builder = Element::builder(name, NS)
            .attr(rxml::xml_ncname!("from").to_owned(), self.from.as_str())
            .attr(rxml::xml_ncname!("to").to_owned(), self.to.as_str());
        if let Some(id) = &self.id {
            builder = builder.attr(rxml::xml_ncname!("id").to_owned(), id.as_str());
        }
        if let Some(verdict) = self.verdict {
            let type_ = match verdict {
                Verdict::Valid => "valid",
                Verdict::Invalid => "invalid",
                Verdict::Error => "error",
            };
            builder = builder.attr(rxml::xml_ncname!("type").to_owned(), type_);
        }
        if let Some(key) = &self.key {
            builder = builder.append(key.as_str());
        }
        builder.build()
    }
}
