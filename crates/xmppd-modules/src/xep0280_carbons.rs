//! XEP-0280: Message Carbons. Which messages are copied to a user's other resources, and the
//! `<received/>` and `<sent/>` wrappers the copies travel in.

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::carbons::{Received, Sent};
use xmpp_parsers::forwarding::Forwarded;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::ns;

/// XEP-0334 message processing hints.
const NS_HINTS: &str = "urn:xmpp:hints";

/// Whether a message is copied (XEP-0280 §6): chat messages, and normal messages with a body;
/// never ones marked `<private/>` or `<no-copy/>`, and never carbons themselves.
pub fn is_eligible(message: &Message) -> bool {
    let kind_ok = match message.type_ {
        MessageType::Chat => true,
        MessageType::Normal => !message.bodies.is_empty(),
        _ => false,
    };
    let has = |name: &str, namespace: &str| message.payloads.iter().any(|p| p.is(name, namespace));
    kind_ok
        && !has("private", ns::CARBONS)
        && !has("no-copy", NS_HINTS)
        && !has("received", ns::CARBONS)
        && !has("sent", ns::CARBONS)
}

fn wrapper(account: &BareJid, to: &FullJid, type_: MessageType, payload: Element) -> Message {
    let mut copy = Message::new(Some(Jid::from(to.clone())));
    copy.from = Some(Jid::from(account.clone()));
    copy.type_ = type_;
    copy.payloads.push(payload);
    copy
}

/// The copy of a message the account received, for its resource `to` (§7).
pub fn received(account: &BareJid, to: &FullJid, message: Message) -> Message {
    let type_ = message.type_.clone();
    let forwarded = Forwarded {
        delay: None,
        message,
    };
    wrapper(account, to, type_, Received { forwarded }.into())
}

/// The copy of a message the account sent from another resource, for its resource `to` (§8).
pub fn sent(account: &BareJid, to: &FullJid, message: Message) -> Message {
    let type_ = message.type_.clone();
    let forwarded = Forwarded {
        delay: None,
        message,
    };
    wrapper(account, to, type_, Sent { forwarded }.into())
}

/// `Some(true)` for `<enable/>`, `Some(false)` for `<disable/>`, `None` for anything else.
pub fn toggle(payload: &Element) -> Option<bool> {
    if payload.is("enable", ns::CARBONS) {
        Some(true)
    } else if payload.is("disable", ns::CARBONS) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(xml: &str) -> Message {
        Message::try_from(xml.parse::<Element>().unwrap()).unwrap()
    }

    #[test]
    fn chat_and_normal_with_body_are_eligible_others_not() {
        let ok = |xml: &str| is_eligible(&message(xml));
        assert!(ok(
            "<message xmlns='jabber:client' type='chat'><body>hi</body></message>"
        ));
        assert!(ok("<message xmlns='jabber:client' type='chat'/>"));
        assert!(ok(
            "<message xmlns='jabber:client'><body>hi</body></message>"
        ));
        assert!(!ok("<message xmlns='jabber:client'/>"));
        assert!(!ok(
            "<message xmlns='jabber:client' type='headline'><body>x</body></message>"
        ));
        assert!(!ok(
            "<message xmlns='jabber:client' type='groupchat'><body>x</body></message>"
        ));
        assert!(!ok(
            "<message xmlns='jabber:client' type='chat'><body>x</body>\
                     <private xmlns='urn:xmpp:carbons:2'/></message>"
        ));
        assert!(!ok(
            "<message xmlns='jabber:client' type='chat'><body>x</body>\
                     <no-copy xmlns='urn:xmpp:hints'/></message>"
        ));
    }

    #[test]
    fn a_carbon_is_never_copied_again() {
        let account = BareJid::new("juliet@capulet.example").unwrap();
        let to = FullJid::new("juliet@capulet.example/balcony").unwrap();
        let original = message(
            "<message xmlns='jabber:client' type='chat' from='romeo@montague.example/home' \
                                to='juliet@capulet.example/chamber'><body>hi</body></message>",
        );
        let copy = received(&account, &to, original);
        assert!(!is_eligible(&copy));
    }

    #[test]
    fn received_wrapper_serialises_as_the_xep_example() {
        let account = BareJid::new("juliet@capulet.example").unwrap();
        let to = FullJid::new("juliet@capulet.example/balcony").unwrap();
        let original = message(
            "<message xmlns='jabber:client' type='chat' from='romeo@montague.example/home' \
                                to='juliet@capulet.example/chamber'><body>hi</body></message>",
        );
        let el: Element = received(&account, &to, original).into();
        assert_eq!(el.attr("from"), Some("juliet@capulet.example"));
        assert_eq!(el.attr("to"), Some("juliet@capulet.example/balcony"));
        assert_eq!(el.attr("type"), Some("chat"));
        let inner = el
            .get_child("received", ns::CARBONS)
            .and_then(|r| r.get_child("forwarded", ns::FORWARD))
            .and_then(|f| f.get_child("message", ns::DEFAULT_NS))
            .expect("received/forwarded/message");
        assert_eq!(inner.attr("from"), Some("romeo@montague.example/home"));
    }

    #[test]
    fn sent_wrapper_parses_back() {
        let account = BareJid::new("romeo@montague.example").unwrap();
        let to = FullJid::new("romeo@montague.example/garden").unwrap();
        let original = message(
            "<message xmlns='jabber:client' type='chat' to='juliet@capulet.example' \
                                from='romeo@montague.example/home'><body>hi</body></message>",
        );
        let el: Element = sent(&account, &to, original.clone()).into();
        let parsed = Sent::try_from(el.get_child("sent", ns::CARBONS).unwrap().clone()).unwrap();
        assert_eq!(parsed.forwarded.message, original);
    }

    #[test]
    fn toggle_reads_enable_and_disable_only() {
        let el = |xml: &str| xml.parse::<Element>().unwrap();
        assert_eq!(
            toggle(&el("<enable xmlns='urn:xmpp:carbons:2'/>")),
            Some(true)
        );
        assert_eq!(
            toggle(&el("<disable xmlns='urn:xmpp:carbons:2'/>")),
            Some(false)
        );
        assert_eq!(toggle(&el("<enable xmlns='urn:xmpp:carbons:1'/>")), None);
    }
}
