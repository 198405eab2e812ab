//! Typed pubsub requests (XEP-0060 §6-§8) from the `<pubsub/>` or `<pubsub#owner/>` payload
//! of an IQ, with the owner-only operations refused for anyone else.

use jid::BareJid;
use minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::pubsub::{PubSub, owner};

use super::{ConfigPatch, MAX_PAYLOAD_BYTES, PubSubError};

/// What a requester asks of a PEP service.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// §7.1: publish one item (id chosen by the service when `None`).
    Publish {
        node: String,
        id: Option<String>,
        payload: Element,
        options: Option<ConfigPatch>,
    },
    /// §7.2: delete one item, notifying subscribers when `notify`.
    Retract {
        node: String,
        id: String,
        notify: bool,
    },
    /// §6.5: items, all (up to `max`) or those named.
    Items {
        node: String,
        max: Option<u32>,
        ids: Vec<String>,
    },
    /// §8.1: create a node, with an optional configuration.
    Create {
        node: String,
        config: Option<ConfigPatch>,
    },
    /// §8.2: the configuration form.
    GetConfig { node: String },
    /// §8.2: change the configuration.
    SetConfig { node: String, config: ConfigPatch },
    /// §8.3: the default configuration.
    Default,
    /// §8.4: delete a node.
    Delete { node: String },
    /// §8.5: delete every item of a node.
    Purge { node: String },
}

impl Request {
    /// Does only the account itself may make this request?
    pub fn owner_only(&self) -> bool {
        !matches!(self, Self::Items { .. })
    }
}

fn malformed(error: impl std::fmt::Display) -> PubSubError {
    PubSubError::Malformed(error.to_string())
}

fn node_name(node: Option<&str>) -> Result<String, PubSubError> {
    match node {
        Some(node) if !node.is_empty() => Ok(node.to_owned()),
        _ => Err(PubSubError::NodeIdRequired),
    }
}

fn options(
    form: Option<&xmpp_parsers::data_forms::DataForm>,
) -> Result<Option<ConfigPatch>, PubSubError> {
    form.map(ConfigPatch::from_form).transpose()
}

/// Parses a pubsub request from `requester` to the PEP service of `owner`. Requests that
/// change the service are refused unless the requester is the owner.
pub fn parse(
    requester: &BareJid,
    owner: &BareJid,
    is_set: bool,
    payload: Element,
) -> Result<Request, PubSubError> {
    let request = if payload.is("pubsub", ns::PUBSUB) {
        user_request(is_set, PubSub::try_from(payload).map_err(malformed)?)?
    } else if payload.is("pubsub", ns::PUBSUB_OWNER) {
        let owner_payload = owner::Owner::try_from(payload).map_err(malformed)?;
        owner_request(is_set, owner_payload.payload)?
    } else {
        return Err(PubSubError::Malformed("not a pubsub payload".into()));
    };
    if request.owner_only() && requester != owner {
        return Err(PubSubError::Forbidden);
    }
    Ok(request)
}

fn user_request(is_set: bool, pubsub: PubSub) -> Result<Request, PubSubError> {
    match (is_set, pubsub) {
        (
            true,
            PubSub::Publish {
                publish,
                publish_options,
            },
        ) => {
            let node = node_name(Some(&publish.node.0))?;
            let mut items = publish.items.into_iter();
            let item = items.next().ok_or(PubSubError::ItemRequired)?;
            if items.next().is_some() {
                return Err(PubSubError::InvalidPayload);
            }
            let payload = item.payload.ok_or(PubSubError::InvalidPayload)?;
            let len = String::from(&payload).len();
            if len > MAX_PAYLOAD_BYTES {
                return Err(PubSubError::PayloadTooBig(len));
            }
            Ok(Request::Publish {
                node,
                id: item.id.map(|id| id.0).filter(|id| !id.is_empty()),
                payload,
                options: options(publish_options.as_ref().and_then(|o| o.form.as_ref()))?,
            })
        }
        (true, PubSub::Retract(retract)) => {
            let node = node_name(Some(&retract.node.0))?;
            let mut ids = retract.items.into_iter().filter_map(|i| i.id);
            let id = ids.next().ok_or(PubSubError::ItemRequired)?;
            if ids.next().is_some() {
                return Err(PubSubError::Unsupported("multi-retract"));
            }
            Ok(Request::Retract {
                node,
                id: id.0,
                notify: retract.notify,
            })
        }
        (true, PubSub::Create { create, configure }) => Ok(Request::Create {
            node: node_name(create.node.as_ref().map(|n| n.0.as_str()))
                .map_err(|_| PubSubError::Unsupported("instant-nodes"))?,
            config: options(configure.as_ref().and_then(|c| c.form.as_ref()))?,
        }),
        (false, PubSub::Items(items)) => Ok(Request::Items {
            node: node_name(Some(&items.node.0))?,
            max: items.max_items,
            ids: items
                .items
                .into_iter()
                .filter_map(|i| i.id.map(|id| id.0))
                .collect(),
        }),
        (false, PubSub::Default(_)) => Ok(Request::Default),
        (_, PubSub::Subscribe { .. } | PubSub::Unsubscribe(_) | PubSub::Subscription(_)) => {
            Err(PubSubError::Unsupported("subscribe"))
        }
        (_, PubSub::Subscriptions(_)) => Err(PubSubError::Unsupported("retrieve-subscriptions")),
        (_, PubSub::Affiliations(_)) => Err(PubSubError::Unsupported("retrieve-affiliations")),
        _ => Err(PubSubError::Malformed(
            "request of the wrong IQ type".into(),
        )),
    }
}

fn owner_request(is_set: bool, payload: owner::Payload) -> Result<Request, PubSubError> {
    use owner::Payload as P;
    match (is_set, payload) {
        (false, P::Configure { node, .. }) => Ok(Request::GetConfig {
            node: node_name(node.as_ref().map(|n| n.0.as_str()))?,
        }),
        (true, P::Configure { node, form }) => Ok(Request::SetConfig {
            node: node_name(node.as_ref().map(|n| n.0.as_str()))?,
            config: options(form.as_ref())?.unwrap_or_default(),
        }),
        (false, P::Default { .. }) => Ok(Request::Default),
        (true, P::Delete { node, .. }) => Ok(Request::Delete {
            node: node_name(Some(&node.0))?,
        }),
        (true, P::Purge { node }) => Ok(Request::Purge {
            node: node_name(Some(&node.0))?,
        }),
        (_, P::Affiliations { .. }) => Err(PubSubError::Unsupported("modify-affiliations")),
        (_, P::Subscriptions { .. }) => Err(PubSubError::Unsupported("manage-subscriptions")),
        _ => Err(PubSubError::Malformed(
            "request of the wrong IQ type".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xep0060_pubsub::AccessModel;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    fn el(xml: &str) -> Element {
        xml.parse().unwrap()
    }

    const PUBLISH: &str = "<pubsub xmlns='http://jabber.org/protocol/pubsub'>\
        <publish node='urn:xmpp:omemo:2:devices'><item id='current'><devices xmlns='urn:xmpp:omemo:2'/></item></publish>\
        <publish-options><x xmlns='jabber:x:data' type='submit'>\
        <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
        <field var='pubsub#access_model'><value>open</value></field></x></publish-options></pubsub>";

    #[test]
    fn publish_with_options() {
        let alice = jid("alice@example.test");
        let request = parse(&alice, &alice, true, el(PUBLISH)).unwrap();
        let Request::Publish {
            node,
            id,
            payload,
            options,
        } = request
        else {
            panic!("not a publish: {request:?}");
        };
        assert_eq!(node, "urn:xmpp:omemo:2:devices");
        assert_eq!(id.as_deref(), Some("current"));
        assert!(payload.is("devices", "urn:xmpp:omemo:2"));
        assert_eq!(options.unwrap().access_model, Some(AccessModel::Open));
    }

    #[test]
    fn others_may_only_read() {
        let (alice, bob) = (jid("alice@example.test"), jid("bob@example.test"));
        assert_eq!(
            parse(&bob, &alice, true, el(PUBLISH)),
            Err(PubSubError::Forbidden)
        );
        let items = el("<pubsub xmlns='http://jabber.org/protocol/pubsub'>\
            <items node='n' max_items='2'><item id='a'/></items></pubsub>");
        assert_eq!(
            parse(&bob, &alice, false, items),
            Ok(Request::Items {
                node: "n".into(),
                max: Some(2),
                ids: vec!["a".into()]
            })
        );
    }

    #[test]
    fn bad_requests_get_their_conditions() {
        let alice = jid("alice@example.test");
        let empty =
            el("<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'/></pubsub>");
        assert_eq!(
            parse(&alice, &alice, true, empty),
            Err(PubSubError::ItemRequired)
        );
        let bare_item = el("<pubsub xmlns='http://jabber.org/protocol/pubsub'>\
            <publish node='n'><item id='x'/></publish></pubsub>");
        assert_eq!(
            parse(&alice, &alice, true, bare_item),
            Err(PubSubError::InvalidPayload)
        );
        let subscribe = el("<pubsub xmlns='http://jabber.org/protocol/pubsub'>\
            <subscribe node='n' jid='alice@example.test'/></pubsub>");
        assert_eq!(
            parse(&alice, &alice, true, subscribe),
            Err(PubSubError::Unsupported("subscribe"))
        );
        let delete = el(
            "<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><delete node='n'/></pubsub>",
        );
        assert_eq!(
            parse(&alice, &alice, true, delete),
            Ok(Request::Delete { node: "n".into() })
        );
        assert!(matches!(
            parse(
                &alice,
                &alice,
                true,
                el("<query xmlns='jabber:iq:private'/>")
            ),
            Err(PubSubError::Malformed(_))
        ));
    }

    #[test]
    fn oversized_payloads_are_refused() {
        let alice = jid("alice@example.test");
        let big = "a".repeat(MAX_PAYLOAD_BYTES);
        let mut payload = Element::builder("data", "urn:xmpp:avatar:data").build();
        payload.append_text_node(big);
        let item = Element::builder("item", ns::PUBSUB)
            .attr(minidom::rxml::xml_ncname!("id").to_owned(), "x")
            .append(payload)
            .build();
        let publish = Element::builder("publish", ns::PUBSUB)
            .attr(minidom::rxml::xml_ncname!("node").to_owned(), "n")
            .append(item)
            .build();
        let pubsub = Element::builder("pubsub", ns::PUBSUB)
            .append(publish)
            .build();
        assert!(matches!(
            parse(&alice, &alice, true, pubsub),
            Err(PubSubError::PayloadTooBig(_))
        ));
    }
}
