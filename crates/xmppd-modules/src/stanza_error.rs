//! RFC 6120 §8.3: stanza errors. The one place that turns a refusal into the error reply to a
//! request stanza, whatever module refused it.

use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::ns;
use xmpp_parsers::presence::{Presence, Type as PresenceType};
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use crate::Error;

/// Language tag of the human-readable `<text/>` we add (our texts are English).
pub const TEXT_LANG: &str = "en";

/// A stanza error with a condition and an optional English text (RFC 6120 §8.3.2).
pub fn make(type_: ErrorType, condition: DefinedCondition, text: Option<&str>) -> StanzaError {
    match text {
        Some(text) => StanzaError::new(type_, condition, TEXT_LANG, text),
        None => StanzaError {
            type_,
            by: None,
            defined_condition: condition,
            texts: Default::default(),
            other: None,
        },
    }
}

/// The stanza error for a module's refusal; the text is the error's message.
pub fn from_error(error: &Error) -> StanzaError {
    let (type_, condition) = error.condition();
    make(type_, condition, Some(&error.to_string()))
}

impl From<&Error> for StanzaError {
    fn from(error: &Error) -> Self {
        from_error(error)
    }
}

/// The error reply to an IQ request: addresses swapped, same id, the request payload echoed
/// (RFC 6120 §8.3.1 allows it and it helps clients match). `None` for `result`/`error` IQs,
/// which must never be answered (§8.2.3).
pub fn iq_error(request: &Iq, error: StanzaError) -> Option<Iq> {
    let (from, to, id, payload) = match request {
        Iq::Get {
            from,
            to,
            id,
            payload,
        }
        | Iq::Set {
            from,
            to,
            id,
            payload,
        } => (from, to, id, payload),
        Iq::Result { .. } | Iq::Error { .. } => return None,
    };
    Some(Iq::Error {
        from: to.clone(),
        to: from.clone(),
        id: id.clone(),
        error,
        payload: Some(payload.clone()),
    })
}

/// The error reply to a message: addresses swapped, type `error`, original content kept.
/// `None` for a message that is itself an error (no error loops, RFC 6120 §8.3.1).
pub fn message_error(request: &Message, error: StanzaError) -> Option<Message> {
    if request.type_ == MessageType::Error {
        return None;
    }
    let mut reply = request.clone();
    reply.from = request.to.clone();
    reply.to = request.from.clone();
    reply.type_ = MessageType::Error;
    reply.payloads.push(error.into());
    Some(reply)
}

/// The error reply to a presence stanza; `None` for an error presence.
pub fn presence_error(request: &Presence, error: StanzaError) -> Option<Presence> {
    if request.type_ == PresenceType::Error {
        return None;
    }
    let mut reply = Presence::new(PresenceType::Error);
    reply.from = request.to.clone();
    reply.to = request.from.clone();
    reply.id = request.id.clone();
    reply.payloads.push(error.into());
    Some(reply)
}

/// The error reply to any request stanza given as an element (`iq`, `message` or `presence` in
/// `jabber:client`). `None` when no reply may be sent: errors, IQ results, or an element that is
/// not a well-formed stanza of those three kinds.
pub fn bounce(request: &Element, error: StanzaError) -> Option<Element> {
    if request.is("iq", ns::DEFAULT_NS) {
        let iq = Iq::try_from(request.clone()).ok()?;
        return iq_error(&iq, error).map(Element::from);
    }
    if request.is("message", ns::DEFAULT_NS) {
        let message = Message::try_from(request.clone()).ok()?;
        return message_error(&message, error).map(Element::from);
    }
    if request.is("presence", ns::DEFAULT_NS) {
        let presence = Presence::try_from(request.clone()).ok()?;
        return presence_error(&presence, error).map(Element::from);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Element {
        xml.parse().expect("test XML parses")
    }

    #[test]
    fn iq_get_bounces_with_swapped_addresses_and_condition() {
        let request = parse(
            "<iq xmlns='jabber:client' type='get' id='a1' from='juliet@example.com/balcony' \
             to='example.com'><query xmlns='urn:example'/></iq>",
        );
        let error = make(
            ErrorType::Cancel,
            DefinedCondition::ServiceUnavailable,
            None,
        );
        let reply = Iq::try_from(bounce(&request, error).expect("get is answered")).unwrap();
        let Iq::Error {
            from,
            to,
            id,
            error,
            payload,
        } = reply
        else {
            panic!("not an error IQ: {reply:?}");
        };
        assert_eq!(from.unwrap().as_str(), "example.com");
        assert_eq!(to.unwrap().as_str(), "juliet@example.com/balcony");
        assert_eq!(id, "a1");
        assert_eq!(
            error.defined_condition,
            DefinedCondition::ServiceUnavailable
        );
        assert_eq!(error.type_, ErrorType::Cancel);
        assert!(payload.unwrap().is("query", "urn:example"));
    }

    #[test]
    fn module_error_serialises_condition_and_text() {
        let element: Element = from_error(&Error::RosterSetOwnJid).into();
        let condition = element.get_child("not-allowed", ns::XMPP_STANZAS);
        assert!(condition.is_some(), "{element:?}");
        assert_eq!(element.attr("type"), Some("cancel"));
        let text = element.get_child("text", ns::XMPP_STANZAS).unwrap();
        assert_eq!(text.text(), "the user's own JID cannot be a roster item");
    }

    #[test]
    fn errors_and_results_are_never_bounced() {
        let error = || {
            make(
                ErrorType::Cancel,
                DefinedCondition::ServiceUnavailable,
                None,
            )
        };
        let result = parse("<iq xmlns='jabber:client' type='result' id='r'/>");
        assert_eq!(bounce(&result, error()), None);
        let message = parse(
            "<message xmlns='jabber:client' type='error' to='a@b'><error type='cancel'>\
             <gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
        );
        assert_eq!(bounce(&message, error()), None);
        let not_a_stanza = parse("<foo xmlns='jabber:client'/>");
        assert_eq!(bounce(&not_a_stanza, error()), None);
    }

    #[test]
    fn message_bounce_keeps_body_and_adds_error() {
        let request = parse(
            "<message xmlns='jabber:client' type='chat' id='m1' from='a@example.com/r' \
             to='nobody@example.com'><body>hi</body></message>",
        );
        let error = make(
            ErrorType::Cancel,
            DefinedCondition::ServiceUnavailable,
            Some("gone"),
        );
        let reply = Message::try_from(bounce(&request, error).unwrap()).unwrap();
        assert_eq!(reply.type_, MessageType::Error);
        assert_eq!(reply.to.unwrap().as_str(), "a@example.com/r");
        assert_eq!(reply.bodies.values().next().map(String::as_str), Some("hi"));
        let error = StanzaError::try_from(reply.payloads[0].clone()).unwrap();
        assert_eq!(error.texts.get(TEXT_LANG).map(String::as_str), Some("gone"));
    }
}
