//! XEP-0045 Multi-User Chat: the rules of a room, without IO.
//!
//! A [`room::Room`] holds its configuration, affiliations, occupants, subject and history;
//! every operation checks the rules and returns [`Fanout`]s (one stanza and everyone who gets
//! it) or a [`MucError`]. The caller (`xmppd-core`) routes the fan-outs, serialising each
//! stanza once for all its recipients.

pub mod admin;
pub mod config;
pub mod destroy;
pub mod disco;
pub mod history;
pub mod messages;
pub mod presence;
pub mod private_iq;
pub mod roles;
pub mod room;
pub mod voice;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_archive;

use jid::Jid;
use minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

/// `muc#admin` namespace (XEP-0045 §9): roles and affiliations by IQ.
pub const NS_ADMIN: &str = "http://jabber.org/protocol/muc#admin";
/// `muc#owner` namespace (XEP-0045 §10): room configuration by IQ.
pub const NS_OWNER: &str = "http://jabber.org/protocol/muc#owner";

/// One stanza and its recipients. The stanza has no `to`: each recipient's copy is addressed
/// to it, so the same payload is serialised once for all of them.
#[derive(Debug, Clone)]
pub struct Fanout {
    pub stanza: Element,
    pub to: Vec<Jid>,
}

impl Fanout {
    pub fn one(stanza: impl Into<Element>, to: Jid) -> Self {
        Self {
            stanza: stanza.into(),
            to: vec![to],
        }
    }
}

/// Why a room refused a request; each maps to one stanza error (XEP-0045 §7.2 error table).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MucError {
    #[error("the room is locked until its owner configures it")]
    Locked,
    #[error("banned from the room")]
    Banned,
    #[error("the room is members-only")]
    MembersOnly,
    #[error("wrong or missing room password")]
    Password,
    #[error("the nickname is in use by another occupant")]
    NickConflict,
    #[error("nickname is empty or too long")]
    BadNick,
    #[error("not an occupant of the room")]
    NotOccupant,
    #[error("no occupant with that nickname")]
    NoSuchOccupant,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    #[error("bad configuration form: {0}")]
    BadForm(&'static str),
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("the room would have no owner left")]
    LastOwner,
    #[error("the room is full")]
    Full,
    #[error("the room has been destroyed")]
    Gone,
}

impl MucError {
    pub fn condition(&self) -> (ErrorType, DefinedCondition) {
        use DefinedCondition as C;
        use ErrorType as T;
        match self {
            Self::Locked | Self::NoSuchOccupant | Self::Gone => (T::Cancel, C::ItemNotFound),
            Self::Banned | Self::Forbidden(_) => (T::Auth, C::Forbidden),
            Self::MembersOnly => (T::Auth, C::RegistrationRequired),
            Self::Password => (T::Auth, C::NotAuthorized),
            Self::NickConflict | Self::LastOwner => (T::Cancel, C::Conflict),
            Self::BadNick | Self::BadForm(_) | Self::BadRequest(_) => (T::Modify, C::BadRequest),
            Self::NotOccupant => (T::Cancel, C::NotAcceptable),
            Self::NotAllowed(_) => (T::Cancel, C::NotAllowed),
            // §7.2.10: a full room answers service-unavailable.
            Self::Full => (T::Wait, C::ServiceUnavailable),
        }
    }
}
