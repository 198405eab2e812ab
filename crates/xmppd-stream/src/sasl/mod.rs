//! SASL for XMPP (RFC 6120 §6): mechanisms, their server sides, and the failure conditions.

pub mod credentials;
pub mod mechanisms;
pub mod plain;
pub mod scram;
mod scram_messages;

use xmpp_parsers::sasl::DefinedCondition;

/// Why a SASL exchange failed; [`SaslError::condition`] gives the RFC 6120 §6.5 condition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    /// The client named a mechanism we did not offer on this stream.
    #[error("selecting the mechanism failed: {0:?} is not offered")]
    SelectMechanism(String),
    /// The client tried to authenticate before TLS where TLS is required.
    #[error("authenticating failed: encryption is required first")]
    EncryptionRequired,
    /// The base64 payload of `<auth/>` or `<response/>` did not decode.
    #[error("decoding the SASL payload failed: invalid base64")]
    DecodeBase64,
    /// A message did not follow the mechanism's grammar.
    #[error("parsing the {step} message failed: {reason}")]
    Parse {
        /// Which message (e.g. `client-first`).
        step: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// The client asked for a channel binding type this connection does not offer.
    #[error("channel binding failed: type {0:?} is not offered")]
    ChannelBindingType(String),
    /// The client says it supports channel binding but thinks we do not, while we do:
    /// someone may have stripped the -PLUS mechanisms (RFC 5802 §6).
    #[error("channel binding failed: downgrade detected")]
    ChannelBindingDowngrade,
    /// The channel binding data in client-final differs from ours.
    #[error("channel binding failed: data does not match this TLS connection")]
    ChannelBindingMismatch,
    /// The nonce in client-final is not the one we issued.
    #[error("checking the nonce failed")]
    Nonce,
    /// Wrong password or unknown user (deliberately indistinguishable).
    #[error("verifying the credentials failed")]
    Verify,
    /// The client asked to act as someone else, which we do not allow.
    #[error("checking the authorization identity failed")]
    Authzid,
    /// The client sent `<abort/>`.
    #[error("the client aborted the exchange")]
    Aborted,
    /// The mechanism is not acceptable in this situation (e.g. policy demands channel binding).
    #[error("selecting the mechanism failed: too weak")]
    MechanismTooWeak,
    /// Looking up credentials failed for a reason that may go away (storage down).
    #[error("looking up credentials failed temporarily")]
    Lookup,
}

impl SaslError {
    /// The `<failure/>` condition for this error (RFC 6120 §6.5).
    #[must_use]
    pub fn condition(&self) -> DefinedCondition {
        match self {
            Self::SelectMechanism(_) => DefinedCondition::InvalidMechanism,
            Self::EncryptionRequired => DefinedCondition::EncryptionRequired,
            Self::DecodeBase64 => DefinedCondition::IncorrectEncoding,
            Self::Parse { .. } => DefinedCondition::MalformedRequest,
            Self::ChannelBindingType(_)
            | Self::ChannelBindingDowngrade
            | Self::ChannelBindingMismatch
            | Self::Nonce
            | Self::Verify => DefinedCondition::NotAuthorized,
            Self::Authzid => DefinedCondition::InvalidAuthzid,
            Self::Aborted => DefinedCondition::Aborted,
            Self::MechanismTooWeak => DefinedCondition::MechanismTooWeak,
            Self::Lookup => DefinedCondition::TemporaryAuthFailure,
        }
    }
}

pub(crate) fn parse_error(step: &'static str, reason: &'static str) -> SaslError {
    SaslError::Parse { step, reason }
}
