//! XEP-0160: Best Practices for Handling Offline Messages, with the XEP-0334 storage hints.
//! What may be stored, and the XEP-0203 `<delay/>` a stored message carries when delivered.

use chrono::{DateTime, Utc};
use jid::Jid;
use xmpp_parsers::date::DateTime as XmppDateTime;
use xmpp_parsers::delay::Delay;
use xmpp_parsers::message::{Message, MessageType};

/// XEP-0334 message processing hints (not in xmpp-parsers' namespace list).
pub const NS_HINTS: &str = "urn:xmpp:hints";

/// The reason text of our delay element (XEP-0160 §3 example).
pub const DELAY_REASON: &str = "Offline Storage";

/// Whether a message that found no available resource is worth storing (XEP-0160 §3,
/// XEP-0334 §4). Only `normal` and `chat`; a `<no-store/>` hint always wins; otherwise it
/// needs a body, or a `<store/>` hint (e.g. an encrypted payload without body).
pub fn should_store(message: &Message) -> bool {
    if !matches!(message.type_, MessageType::Normal | MessageType::Chat) {
        return false;
    }
    let hint = |name: &str| message.payloads.iter().any(|p| p.is(name, NS_HINTS));
    if hint("no-store") || hint("no-permanent-store") {
        return false;
    }
    !message.bodies.is_empty() || hint("store")
}

/// Add the `<delay/>` that tells the client when the server stored `message` (XEP-0160 §3,
/// XEP-0203). Existing delays (from the sender's server, for instance) are kept; a delay of
/// our own domain is not added twice.
pub fn stamp(mut message: Message, domain: &Jid, stored_at: DateTime<Utc>) -> Message {
    let ours = message
        .payloads
        .iter()
        .any(|p| Delay::try_from(p.clone()).is_ok_and(|d| d.from.as_ref() == Some(domain)));
    if !ours {
        let delay = Delay {
            from: Some(domain.clone()),
            stamp: XmppDateTime(stored_at.fixed_offset()),
            data: Some(DELAY_REASON.to_owned()),
        };
        message.payloads.push(delay.into());
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidom::Element;
    use xmpp_parsers::ns;

    fn message(xml: &str) -> Message {
        Message::try_from(xml.parse::<Element>().unwrap()).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn parses_which_messages_to_store() {
        assert!(should_store(&message(
            "<message xmlns='jabber:client' type='chat'><body>hi</body></message>"
        )));
        assert!(should_store(&message(
            "<message xmlns='jabber:client'><body>hi</body></message>"
        )));
        assert!(!should_store(&message(
            "<message xmlns='jabber:client' type='headline'><body>news</body></message>"
        )));
        assert!(!should_store(&message(
            "<message xmlns='jabber:client' type='groupchat'><body>x</body></message>"
        )));
        // A chat state alone is not worth keeping; a store hint makes a bodiless one stored.
        assert!(!should_store(&message(
            "<message xmlns='jabber:client' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>"
        )));
        assert!(should_store(&message(
            "<message xmlns='jabber:client' type='chat'><store xmlns='urn:xmpp:hints'/></message>"
        )));
        assert!(!should_store(&message(
            "<message xmlns='jabber:client' type='chat'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>"
        )));
    }

    #[test]
    fn serialises_the_delay_once_and_keeps_others() {
        let domain = Jid::new("capulet.com").unwrap();
        let original = message(
            "<message xmlns='jabber:client' from='romeo@montague.net/orchard' to='juliet@capulet.com' type='chat'>\
             <body>O blessed night</body>\
             <delay xmlns='urn:xmpp:delay' from='montague.net' stamp='2002-09-10T23:07:00Z'/></message>",
        );
        let stamped = stamp(original, &domain, at("2002-09-10T23:08:25Z"));
        let again = stamp(stamped.clone(), &domain, at("2002-09-11T00:00:00Z"));
        assert_eq!(again, stamped, "our delay is added once");
        let delays: Vec<String> = stamped
            .payloads
            .iter()
            .filter(|p| p.is("delay", ns::DELAY))
            .map(String::from)
            .collect();
        assert_eq!(
            delays,
            [
                "<delay xmlns='urn:xmpp:delay' from='montague.net' stamp='2002-09-10T23:07:00Z'/>",
                "<delay xmlns='urn:xmpp:delay' from='capulet.com' stamp='2002-09-10T23:08:25+00:00'>Offline Storage</delay>",
            ]
        );
    }

    #[test]
    fn a_malformed_existing_delay_is_kept_and_ours_added() {
        let domain = Jid::new("capulet.com").unwrap();
        let original = message(
            "<message xmlns='jabber:client' type='chat'><body>x</body>\
             <delay xmlns='urn:xmpp:delay' from='capulet.com' stamp='yesterday'/></message>",
        );
        let bad = Delay::try_from(original.payloads[0].clone()).unwrap_err();
        assert_eq!(bad.to_string(), "text parse error: premature end of input");
        let stamped = stamp(original, &domain, at("2002-09-10T23:08:25Z"));
        assert_eq!(stamped.payloads.len(), 2);
    }
}
