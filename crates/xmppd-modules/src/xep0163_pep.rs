//! XEP-0163: Personal Eventing Protocol. Who may read a node of an account, who is notified of
//! its changes (presence subscribers and the owner's own resources that asked with
//! `NODE+notify` in their XEP-0115 caps), and the notification messages themselves.

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::pubsub::event::{Event, Item as EventItem, Payload as EventPayload};
use xmpp_parsers::pubsub::{ItemId, NodeName};

use crate::xep0060_pubsub::{AccessModel, PubSubError};

/// How the requester stands to the node's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The account itself.
    Owner,
    /// A contact the owner shares presence with (subscription `from` or `both`).
    PresenceSubscriber,
    /// Anyone else.
    Stranger,
}

/// May an entity with this relation read the node's items (XEP-0060 §6.5.3)?
pub fn may_read(model: AccessModel, relation: Relation) -> Result<(), PubSubError> {
    match (model, relation) {
        (_, Relation::Owner) | (AccessModel::Open, _) => Ok(()),
        (AccessModel::Presence, Relation::PresenceSubscriber) => Ok(()),
        (AccessModel::Presence, Relation::Stranger) => {
            Err(PubSubError::PresenceSubscriptionRequired)
        }
        (AccessModel::Whitelist, _) => Err(PubSubError::ClosedNode),
    }
}

/// The caps feature by which a client asks for a node's notifications (§4.4).
pub fn notify_feature(node: &str) -> String {
    format!("{node}+notify")
}

/// Does a client with these disco features want notifications of `node`?
pub fn wants<'a>(features: impl IntoIterator<Item = &'a String>, node: &str) -> bool {
    let wanted = notify_feature(node);
    features.into_iter().any(|f| *f == wanted)
}

/// One available resource that might be notified: its relation to the owner and whether its
/// caps ask for the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub jid: FullJid,
    pub relation: Relation,
    pub wants_node: bool,
}

/// The resources that get a notification: those that asked for the node and may read it.
pub fn recipients(model: AccessModel, candidates: &[Candidate]) -> Vec<FullJid> {
    candidates
        .iter()
        .filter(|c| c.wants_node && may_read(model, c.relation).is_ok())
        .map(|c| c.jid.clone())
        .collect()
}

fn headline(owner: &BareJid, to: &FullJid, payload: EventPayload) -> Message {
    let mut message = Message::new(Some(Jid::from(to.clone())));
    message.from = Some(Jid::from(owner.clone()));
    message.type_ = MessageType::Headline;
    message.payloads.push(Event { payload }.into());
    message
}

/// The notification of a published item (§7.1.2.1), payload included.
pub fn published(owner: &BareJid, to: &FullJid, node: &str, id: &str, payload: Element) -> Message {
    headline(
        owner,
        to,
        EventPayload::Items {
            node: NodeName(node.to_owned()),
            published: vec![EventItem {
                id: Some(ItemId(id.to_owned())),
                publisher: None,
                payload: Some(payload),
            }],
            retracted: Vec::new(),
        },
    )
}

/// The notification of a retracted item (§7.2.2.1).
pub fn retracted(owner: &BareJid, to: &FullJid, node: &str, id: &str) -> Message {
    headline(
        owner,
        to,
        EventPayload::Items {
            node: NodeName(node.to_owned()),
            published: Vec::new(),
            retracted: vec![ItemId(id.to_owned())],
        },
    )
}

/// The notification of a deleted node (§8.4.2) or purged items (§8.5.2).
pub fn node_gone(owner: &BareJid, to: &FullJid, node: &str, purged: bool) -> Message {
    let node = NodeName(node.to_owned());
    let payload = if purged {
        EventPayload::Purge { node }
    } else {
        EventPayload::Delete {
            node,
            redirect: None,
        }
    };
    headline(owner, to, payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> FullJid {
        FullJid::new(s).unwrap()
    }

    #[test]
    fn access_models() {
        use Relation::*;
        assert_eq!(may_read(AccessModel::Presence, PresenceSubscriber), Ok(()));
        assert_eq!(
            may_read(AccessModel::Presence, Stranger),
            Err(PubSubError::PresenceSubscriptionRequired)
        );
        assert_eq!(may_read(AccessModel::Open, Stranger), Ok(()));
        assert_eq!(may_read(AccessModel::Whitelist, Owner), Ok(()));
        assert_eq!(
            may_read(AccessModel::Whitelist, PresenceSubscriber),
            Err(PubSubError::ClosedNode)
        );
    }

    #[test]
    fn only_interested_readers_are_notified() {
        let candidates = [
            Candidate {
                jid: full("a@x/1"),
                relation: Relation::Owner,
                wants_node: true,
            },
            Candidate {
                jid: full("a@x/2"),
                relation: Relation::Owner,
                wants_node: false,
            },
            Candidate {
                jid: full("b@x/1"),
                relation: Relation::PresenceSubscriber,
                wants_node: true,
            },
            Candidate {
                jid: full("c@x/1"),
                relation: Relation::Stranger,
                wants_node: true,
            },
        ];
        assert_eq!(
            recipients(AccessModel::Presence, &candidates),
            [full("a@x/1"), full("b@x/1")]
        );
        assert_eq!(
            recipients(AccessModel::Whitelist, &candidates),
            [full("a@x/1")]
        );
        assert_eq!(recipients(AccessModel::Open, &candidates).len(), 3);
    }

    #[test]
    fn notify_feature_matches_exactly() {
        let features = vec![
            "urn:xmpp:avatar:metadata+notify".to_owned(),
            "urn:x".to_owned(),
        ];
        assert!(wants(&features, "urn:xmpp:avatar:metadata"));
        assert!(!wants(&features, "urn:xmpp:avatar:data"));
        assert!(!wants(&features, "urn:x"));
    }

    #[test]
    fn notification_shape() {
        let owner = BareJid::new("a@x").unwrap();
        let payload: Element = "<tune xmlns='http://jabber.org/protocol/tune'/>"
            .parse()
            .unwrap();
        let message: Element = published(&owner, &full("b@x/r"), "n", "i1", payload).into();
        assert_eq!(message.attr("type"), Some("headline"));
        assert_eq!(message.attr("from"), Some("a@x"));
        let event = message
            .get_child("event", xmpp_parsers::ns::PUBSUB_EVENT)
            .unwrap();
        let items = event
            .get_child("items", xmpp_parsers::ns::PUBSUB_EVENT)
            .unwrap();
        assert_eq!(items.attr("node"), Some("n"));
        let retract: Element = retracted(&owner, &full("b@x/r"), "n", "i1").into();
        assert!(String::from(&retract).contains("retract"));
    }
}
