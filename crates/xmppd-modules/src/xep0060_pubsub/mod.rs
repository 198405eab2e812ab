//! XEP-0060: Publish-Subscribe, the subset a PEP service (XEP-0163) needs: publish with
//! publish-options, retract, items, create, delete, purge and node configuration, each typed
//! from the request and refused with the error conditions of XEP-0060 §7-§8.

pub mod config;
pub mod request;

pub use config::{AccessModel, ConfigPatch, NodeConfig, SendLast};
pub use request::{Request, parse};

use minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use crate::stanza_error;

/// `http://jabber.org/protocol/pubsub#errors`: the application conditions of XEP-0060.
pub const NS_ERRORS: &str = "http://jabber.org/protocol/pubsub#errors";

/// The largest payload an item may carry, serialised (OMEMO bundles and avatars' metadata
/// are far smaller; avatar data is the big one).
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// The most nodes one account may have: each costs storage, and OMEMO, bookmarks, avatars
/// and the usual extended-presence nodes need a few dozen at most.
pub const MAX_NODES_PER_ACCOUNT: usize = 128;

/// Why a pubsub request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PubSubError {
    /// The payload does not parse as the pubsub element.
    #[error("malformed pubsub request: {0}")]
    Malformed(String),
    /// A request that needs a node name came without one (§7.1.3.3).
    #[error("the request names no node")]
    NodeIdRequired,
    /// A publish without an item, or a retract without one (§7.1.3.6, §7.2.3.3).
    #[error("the request carries no item")]
    ItemRequired,
    /// More than one item in a publish, or an item without exactly one payload (§7.1.3.5).
    #[error("an item must carry exactly one payload")]
    InvalidPayload,
    /// A payload bigger than [`MAX_PAYLOAD_BYTES`] (§7.1.3.4).
    #[error("item payload is {0} bytes, the limit is {MAX_PAYLOAD_BYTES}")]
    PayloadTooBig(usize),
    /// The account has [`MAX_NODES_PER_ACCOUNT`] nodes already.
    #[error("an account may have at most {MAX_NODES_PER_ACCOUNT} nodes")]
    TooManyNodes,
    /// Creating a node that exists (§8.1.3).
    #[error("the node exists already")]
    NodeExists,
    /// The node or the item does not exist.
    #[error("no such node or item")]
    NotFound,
    /// Only the account itself may publish, retract or configure its nodes.
    #[error("only the owner may do this")]
    Forbidden,
    /// Presence access model, and the requester has no subscription (§6.1.3.2).
    #[error("items of this node are shown to contacts with a presence subscription")]
    PresenceSubscriptionRequired,
    /// Whitelist access model, and the requester is not on it (§6.1.3.4).
    #[error("this node is closed")]
    ClosedNode,
    /// publish-options do not match the existing node's configuration (§7.1.5).
    #[error("publish option {0} does not match the node's configuration")]
    PreconditionNotMet(String),
    /// A configuration value we do not accept.
    #[error("unsupported value {value:?} for {field}")]
    BadOption {
        /// The form field.
        field: String,
        /// The refused value.
        value: String,
    },
    /// A pubsub feature outside the subset (e.g. explicit subscriptions on PEP).
    #[error("pubsub feature {0} is not supported")]
    Unsupported(&'static str),
}

impl PubSubError {
    /// The stanza error, with the `pubsub#errors` condition where XEP-0060 names one.
    pub fn stanza_error(&self) -> StanzaError {
        use DefinedCondition as C;
        use ErrorType as T;
        let (type_, condition, app): (_, _, Option<&str>) = match self {
            Self::Malformed(_) => (T::Modify, C::BadRequest, None),
            Self::NodeIdRequired => (T::Modify, C::BadRequest, Some("nodeid-required")),
            Self::ItemRequired => (T::Modify, C::BadRequest, Some("item-required")),
            Self::InvalidPayload => (T::Modify, C::BadRequest, Some("invalid-payload")),
            Self::PayloadTooBig(_) => (T::Modify, C::NotAcceptable, Some("payload-too-big")),
            Self::NotFound => (T::Cancel, C::ItemNotFound, None),
            Self::NodeExists => (T::Cancel, C::Conflict, None),
            Self::TooManyNodes => (T::Wait, C::ResourceConstraint, None),
            Self::Forbidden => (T::Auth, C::Forbidden, None),
            Self::PresenceSubscriptionRequired => (
                T::Auth,
                C::NotAuthorized,
                Some("presence-subscription-required"),
            ),
            Self::ClosedNode => (T::Cancel, C::NotAllowed, Some("closed-node")),
            Self::PreconditionNotMet(_) => (T::Cancel, C::Conflict, Some("precondition-not-met")),
            Self::BadOption { .. } => (T::Modify, C::NotAcceptable, None),
            Self::Unsupported(_) => (T::Cancel, C::FeatureNotImplemented, Some("unsupported")),
        };
        let mut error = stanza_error::make(type_, condition, Some(&self.to_string()));
        error.other = app.map(|name| {
            let builder = Element::builder(name, NS_ERRORS);
            match self {
                Self::Unsupported(feature) => builder
                    .attr(minidom::rxml::xml_ncname!("feature").to_owned(), *feature)
                    .build(),
                _ => builder.build(),
            }
        });
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precondition_error_carries_the_pubsub_condition() {
        let error = PubSubError::PreconditionNotMet("pubsub#access_model".into()).stanza_error();
        assert_eq!(error.defined_condition, DefinedCondition::Conflict);
        assert_eq!(error.type_, ErrorType::Cancel);
        let other = error.other.expect("application condition");
        assert!(other.is("precondition-not-met", NS_ERRORS));
    }

    #[test]
    fn unsupported_names_the_feature() {
        let error = PubSubError::Unsupported("subscribe").stanza_error();
        let other = error.other.expect("application condition");
        assert_eq!(other.attr("feature"), Some("subscribe"));
    }
}
