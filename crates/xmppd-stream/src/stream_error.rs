//! Stream errors (RFC 6120 §4.9): `<stream:error>` with a defined condition and optional text.

use minidom::Element;
pub use xmpp_parsers::stream_error::DefinedCondition;

use crate::writer::{self, WriteError};

/// A stream-level error we send before closing the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamError {
    /// The RFC 6120 §4.9.3 condition.
    pub condition: DefinedCondition,
    /// Human-readable text (English), for logs and curious users.
    pub text: Option<String>,
}

impl StreamError {
    /// An error with only a condition.
    #[must_use]
    pub fn new(condition: DefinedCondition) -> Self {
        Self {
            condition,
            text: None,
        }
    }

    /// Attach explanatory text.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// The `<stream:error/>` element.
    #[must_use]
    pub fn to_element(&self) -> Element {
        let typed = match &self.text {
            Some(text) => {
                xmpp_parsers::stream_error::StreamError::new(self.condition.clone(), "en", text)
            }
            None => xmpp_parsers::stream_error::StreamError {
                condition: self.condition.clone(),
                texts: Default::default(),
                application_specific: Vec::new(),
            },
        };
        Element::from(typed)
    }

    /// The serialised `<stream:error/>`, ready to write before `</stream:stream>`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WriteError> {
        writer::element(&self.to_element())
    }
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.text {
            Some(text) => write!(f, "{} ({text})", self.condition),
            None => write!(f, "{}", self.condition),
        }
    }
}
