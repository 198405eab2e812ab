//! RFC 6121 §8.5: where a stanza addressed to a local account goes.
//!
//! Choice for messages of type `normal` and `chat` to the bare JID (§8.5.2.1.1 allows either
//! the highest-priority resources or all non-negative ones): we deliver to every available
//! resource with non-negative priority, as modern servers do, so every device of the user sees
//! the conversation (the same reasoning as XEP-0280 carbons).

use jid::{FullJid, Jid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::ns;
use xmpp_parsers::presence::{Presence, Type as PresenceType};
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

use super::presence::ResourceSnapshot;
use crate::Error;

/// Whether an IQ asks (get/set) or answers (result/error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IqKind {
    /// `get` or `set`: must be answered.
    Request,
    /// `result` or `error`: must never be answered.
    Response,
}

/// The parts of a stanza that decide its delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum StanzaKind {
    /// A message of this type.
    Message(MessageType),
    /// A presence of this type.
    Presence(PresenceType),
    /// An IQ.
    Iq(IqKind),
}

impl From<&Message> for StanzaKind {
    fn from(m: &Message) -> Self {
        StanzaKind::Message(m.type_.clone())
    }
}

impl From<&Presence> for StanzaKind {
    fn from(p: &Presence) -> Self {
        StanzaKind::Presence(p.type_.clone())
    }
}

impl From<&Iq> for StanzaKind {
    fn from(iq: &Iq) -> Self {
        match iq {
            Iq::Get { .. } | Iq::Set { .. } => StanzaKind::Iq(IqKind::Request),
            Iq::Result { .. } | Iq::Error { .. } => StanzaKind::Iq(IqKind::Response),
        }
    }
}

impl StanzaKind {
    /// Read the kind from a `jabber:client` stanza element without parsing its content.
    pub fn from_element(element: &Element) -> Result<StanzaKind, Error> {
        let bad = |reason: String| Error::ParsePayload {
            what: "stanza",
            reason,
        };
        let type_ = element.attr("type");
        if element.is("message", ns::DEFAULT_NS) {
            let t = type_.unwrap_or("normal").parse::<MessageType>();
            return t.map(StanzaKind::Message).map_err(|e| bad(e.to_string()));
        }
        if element.is("presence", ns::DEFAULT_NS) {
            let t = match type_ {
                None => PresenceType::None,
                Some("error") => PresenceType::Error,
                Some("probe") => PresenceType::Probe,
                Some("subscribe") => PresenceType::Subscribe,
                Some("subscribed") => PresenceType::Subscribed,
                Some("unavailable") => PresenceType::Unavailable,
                Some("unsubscribe") => PresenceType::Unsubscribe,
                Some("unsubscribed") => PresenceType::Unsubscribed,
                Some(other) => return Err(bad(format!("unknown presence type {other:?}"))),
            };
            return Ok(StanzaKind::Presence(t));
        }
        if element.is("iq", ns::DEFAULT_NS) {
            return match type_ {
                Some("get" | "set") => Ok(StanzaKind::Iq(IqKind::Request)),
                Some("result" | "error") => Ok(StanzaKind::Iq(IqKind::Response)),
                other => Err(bad(format!("unknown iq type {other:?}"))),
            };
        }
        Err(bad(format!("element {} is not a stanza", element.name())))
    }
}

/// What to do with a stanza for a local account.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Deliver to these sessions (same stanza to each).
    DeliverTo(Vec<FullJid>),
    /// Nobody can take it now: keep it for the next login (XEP-0160).
    StoreOffline,
    /// The server answers for the account: an IQ to the bare JID (roster, vCard, ...) or a
    /// presence probe (see `presence::answer_probe`).
    HandleOnBehalf,
    /// Reply to the sender with this stanza error.
    Error(ErrorType, DefinedCondition),
    /// Silently ignore.
    Drop,
}

fn service_unavailable() -> Decision {
    Decision::Error(ErrorType::Cancel, DefinedCondition::ServiceUnavailable)
}

fn is_subscription(t: &PresenceType) -> bool {
    matches!(
        t,
        PresenceType::Subscribe
            | PresenceType::Subscribed
            | PresenceType::Unsubscribe
            | PresenceType::Unsubscribed
    )
}

fn deliver_or(targets: Vec<FullJid>, otherwise: Decision) -> Decision {
    if targets.is_empty() {
        otherwise
    } else {
        Decision::DeliverTo(targets)
    }
}

/// Decide delivery of a stanza of `kind` addressed to `to`, a JID of a local domain.
/// `account` is `None` when the account does not exist, else its current sessions.
pub fn route_local(to: &Jid, kind: &StanzaKind, account: Option<&[ResourceSnapshot]>) -> Decision {
    let Some(sessions) = account else {
        // §8.5.1: no such account.
        return match kind {
            StanzaKind::Message(MessageType::Error) => Decision::Drop,
            StanzaKind::Message(_) | StanzaKind::Iq(IqKind::Request) => service_unavailable(),
            StanzaKind::Presence(_) | StanzaKind::Iq(IqKind::Response) => Decision::Drop,
        };
    };
    if let Some(resource) = to.resource() {
        // §8.5.3.1: a connected resource takes everything addressed to it, except what the
        // server handles itself (probes) and subscriptions (bare-JID business, §3).
        let bound = sessions.iter().find(|s| s.jid.resource() == resource);
        if let Some(session) = bound {
            return match kind {
                StanzaKind::Presence(PresenceType::Probe) => Decision::HandleOnBehalf,
                StanzaKind::Presence(t) if is_subscription(t) => to_bare(kind, sessions),
                _ => Decision::DeliverTo(vec![session.jid.clone()]),
            };
        }
        // §8.5.3.2: no such resource.
        return match kind {
            StanzaKind::Message(MessageType::Normal | MessageType::Chat) => to_bare(kind, sessions),
            StanzaKind::Message(MessageType::Groupchat) | StanzaKind::Iq(IqKind::Request) => {
                service_unavailable()
            }
            StanzaKind::Presence(PresenceType::Probe) => Decision::HandleOnBehalf,
            StanzaKind::Presence(t) if is_subscription(t) => to_bare(kind, sessions),
            _ => Decision::Drop,
        };
    }
    to_bare(kind, sessions)
}

/// §8.5.2: the account exists and the stanza is for its bare JID.
fn to_bare(kind: &StanzaKind, sessions: &[ResourceSnapshot]) -> Decision {
    let available = || -> Vec<FullJid> {
        sessions
            .iter()
            .filter(|s| s.is_available())
            .map(|s| s.jid.clone())
            .collect()
    };
    let non_negative = || -> Vec<FullJid> {
        sessions
            .iter()
            .filter(|s| s.receives_bare_messages())
            .map(|s| s.jid.clone())
            .collect()
    };
    match kind {
        StanzaKind::Message(MessageType::Normal | MessageType::Chat) => {
            deliver_or(non_negative(), Decision::StoreOffline)
        }
        StanzaKind::Message(MessageType::Headline) => deliver_or(non_negative(), Decision::Drop),
        StanzaKind::Message(MessageType::Groupchat) => service_unavailable(),
        StanzaKind::Message(MessageType::Error) => Decision::Drop,
        StanzaKind::Presence(PresenceType::Probe) => Decision::HandleOnBehalf,
        // §3.1.3: a request waits offline for the user to answer; other subscription
        // stanzas are already reflected in the roster.
        StanzaKind::Presence(PresenceType::Subscribe) => {
            deliver_or(available(), Decision::StoreOffline)
        }
        StanzaKind::Presence(PresenceType::Error) => Decision::Drop,
        StanzaKind::Presence(_) => deliver_or(available(), Decision::Drop),
        StanzaKind::Iq(IqKind::Request) => Decision::HandleOnBehalf,
        StanzaKind::Iq(IqKind::Response) => Decision::Drop,
    }
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;
