//! XEP-0363: HTTP File Upload, the XMPP half: the service's disco#info and the rules for a slot
//! request (size, quota, file name, content type). The HTTP half lives in `xmppd-http`.

use minidom::Element;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field};
use xmpp_parsers::disco::{DiscoInfoResult, Identity};
use xmpp_parsers::ns;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};
use xso::{AsXml, FromXml};

use crate::stanza_error::make;

/// The XEP-0363 namespace (`urn:xmpp:http:upload:0`).
pub const NS: &str = ns::HTTP_UPLOAD;

/// Longest file name kept (in characters); longer names are cut.
pub const MAX_FILENAME_CHARS: usize = 100;

/// Longest content type accepted.
const MAX_CONTENT_TYPE: usize = 127;

/// Content type of a slot that named none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// §5: the file is larger than the service accepts; carries the maximum.
pub use too_large::FileTooLarge;

mod too_large {
    // xso's derive converts the extracted `u64` into itself, which clippy flags.
    #![allow(clippy::useless_conversion)]
    use super::NS;
    use xso::{AsXml, FromXml};

    /// `<file-too-large/>` with `<max-file-size/>` (§5).
    #[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
    #[xml(namespace = NS, name = "file-too-large")]
    pub struct FileTooLarge {
        /// The largest size accepted, in bytes.
        #[xml(extract(name = "max-file-size", fields(text(type_ = u64))))]
        pub max_file_size: u64,
    }
}

/// §4: a slot request. xmpp-parsers' `SlotRequest` requires `content-type`, which the XEP makes
/// optional, so the request is parsed here.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = NS, name = "request")]
pub struct SlotRequest {
    /// The file's name.
    #[xml(attribute)]
    pub filename: String,
    /// The file's size in bytes.
    #[xml(attribute)]
    pub size: u64,
    /// The file's MIME type, if the client named one.
    #[xml(attribute(name = "content-type", default))]
    pub content_type: Option<String>,
}

/// §3: identity `store/file`, the feature, and the max-file-size form.
pub fn disco_info(name: &str, max_file_bytes: u64) -> DiscoInfoResult {
    let max = max_file_bytes.to_string();
    DiscoInfoResult {
        node: None,
        identities: vec![Identity {
            category: "store".into(),
            type_: "file".into(),
            lang: None,
            name: Some(name.to_owned()),
        }],
        features: [ns::DISCO_INFO, ns::DISCO_ITEMS, NS]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        extensions: vec![DataForm::new(
            DataFormType::Result_,
            NS,
            vec![Field::text_single("max-file-size", &max)],
        )],
    }
}

/// A slot request that passed every rule: what the PUT must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The cleaned file name (only ever part of the URL, never of a filesystem path).
    pub filename: String,
    /// Exact size in bytes.
    pub size: u64,
    /// The content type the PUT must carry and the GET answers with.
    pub content_type: String,
}

/// Why a slot was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The request element did not parse.
    #[error("malformed upload request: {0}")]
    Malformed(String),
    /// A file of zero bytes (nothing to upload).
    #[error("the file is empty")]
    Empty,
    /// Larger than the maximum.
    #[error("file too large: the maximum is {max} bytes")]
    TooLarge {
        /// The maximum, in bytes.
        max: u64,
    },
    /// The user's stored and pending files would exceed the quota.
    #[error("upload quota exceeded: {used} of {quota} bytes used")]
    Quota {
        /// Bytes stored or reserved already.
        used: u64,
        /// The quota.
        quota: u64,
    },
    /// The content type is not a `type/subtype` token.
    #[error("invalid content type")]
    ContentType,
}

impl Refusal {
    /// §4: the stanza error for this refusal (with `<file-too-large/>` where it applies).
    pub fn stanza_error(&self) -> StanzaError {
        let text = self.to_string();
        let (type_, condition) = match self {
            Self::Malformed(_) | Self::Empty | Self::ContentType => {
                (ErrorType::Modify, DefinedCondition::BadRequest)
            }
            Self::TooLarge { .. } => (ErrorType::Modify, DefinedCondition::NotAcceptable),
            Self::Quota { .. } => (ErrorType::Wait, DefinedCondition::ResourceConstraint),
        };
        let mut error = make(type_, condition, Some(&text));
        if let Self::TooLarge { max } = self {
            error.other = Some(Element::from(FileTooLarge {
                max_file_size: *max,
            }));
        }
        error
    }
}

/// Checks a slot request against the limits; `used` is what the user stores or has reserved.
pub fn check(
    payload: Element,
    max_file_bytes: u64,
    quota: u64,
    used: u64,
) -> Result<Slot, Refusal> {
    let request = SlotRequest::try_from(payload).map_err(|e| Refusal::Malformed(e.to_string()))?;
    if request.size == 0 {
        return Err(Refusal::Empty);
    }
    if request.size > max_file_bytes {
        return Err(Refusal::TooLarge {
            max: max_file_bytes,
        });
    }
    if used.saturating_add(request.size) > quota {
        return Err(Refusal::Quota { used, quota });
    }
    let content_type = match request.content_type.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_CONTENT_TYPE.to_owned(),
        Some(t) if valid_content_type(t) => t.to_ascii_lowercase(),
        Some(_) => return Err(Refusal::ContentType),
    };
    Ok(Slot {
        filename: clean_filename(&request.filename),
        size: request.size,
        content_type,
    })
}

/// `type/subtype` made of RFC 7230 token characters, no parameters (they would be one more
/// thing the PUT has to repeat exactly).
fn valid_content_type(value: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    value.len() <= MAX_CONTENT_TYPE
        && value
            .split_once('/')
            .is_some_and(|(t, s)| token(t) && token(s))
}

/// The last path component of a client's name, without control characters or leading dots,
/// at most [`MAX_FILENAME_CHARS`] long; `file` when nothing is left.
pub fn clean_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILENAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// Percent-encodes a path segment: RFC 3986 unreserved characters stay, all else is `%XX`.
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
mod tests {
    use super::*;

    fn request(filename: &str, size: u64, content_type: Option<&str>) -> Element {
        SlotRequest {
            filename: filename.to_owned(),
            size,
            content_type: content_type.map(str::to_owned),
        }
        .into()
    }

    #[test]
    fn a_good_request_gets_a_slot() {
        let slot = check(request("cat.png", 10, Some("image/PNG")), 100, 1000, 0).unwrap();
        assert_eq!(slot.filename, "cat.png");
        assert_eq!(slot.size, 10);
        assert_eq!(slot.content_type, "image/png");
        let plain = check(request("a.bin", 10, None), 100, 1000, 0).unwrap();
        assert_eq!(plain.content_type, DEFAULT_CONTENT_TYPE);
    }

    #[test]
    fn too_large_carries_the_maximum() {
        let refusal = check(request("big", 101, None), 100, 1000, 0).unwrap_err();
        assert_eq!(refusal, Refusal::TooLarge { max: 100 });
        let error = refusal.stanza_error();
        assert_eq!(error.defined_condition, DefinedCondition::NotAcceptable);
        let other = error.other.expect("file-too-large");
        assert_eq!(
            String::from(&other),
            "<file-too-large xmlns='urn:xmpp:http:upload:0'><max-file-size>100</max-file-size></file-too-large>"
        );
        let parsed = FileTooLarge::try_from(other).unwrap();
        assert_eq!(parsed.max_file_size, 100);
    }

    #[test]
    fn quota_counts_what_is_used() {
        assert!(check(request("a", 50, None), 100, 100, 50).is_ok());
        assert_eq!(
            check(request("a", 51, None), 100, 100, 50).unwrap_err(),
            Refusal::Quota {
                used: 50,
                quota: 100
            }
        );
    }

    #[test]
    fn bad_requests_are_refused() {
        assert_eq!(
            check(request("a", 0, None), 100, 100, 0),
            Err(Refusal::Empty)
        );
        assert_eq!(
            check(request("a", 1, Some("text/html; charset=x")), 100, 100, 0),
            Err(Refusal::ContentType)
        );
        let wrong = Element::builder("request", "urn:xmpp:http:upload").build();
        assert!(matches!(
            check(wrong, 100, 100, 0),
            Err(Refusal::Malformed(_))
        ));
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\x\\..\\y.txt"), "y.txt");
        assert_eq!(clean_filename(".."), "file");
        assert_eq!(clean_filename("a\u{0}b\nc"), "abc");
        assert_eq!(clean_filename(&"x".repeat(300)).len(), MAX_FILENAME_CHARS);
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("a b/ä?.txt"), "a%20b%2F%C3%A4%3F.txt");
    }

    #[test]
    fn disco_announces_the_limit() {
        let info = disco_info("Uploads", 4096);
        assert!(info.features.contains(NS));
        assert_eq!(info.identities[0].category, "store");
        let field = info.extensions[0]
            .fields
            .iter()
            .find(|f| f.var.as_deref() == Some("max-file-size"))
            .unwrap();
        assert_eq!(field.values, vec!["4096"]);
    }
}
