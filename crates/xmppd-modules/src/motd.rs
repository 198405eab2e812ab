//! Message of the day, sent from the server's domain to each resource when it logs in (as
//! Prosody's mod_motd does: a message of type `normal` with a body, to the full JID).

use jid::{BareJid, FullJid, Jid};
use xmpp_parsers::message::{Lang, Message, MessageType};

/// The MOTD for the resource `to` that just became available, or `None` when the configured
/// text is empty (nothing to say).
pub fn motd(domain: &BareJid, to: &FullJid, text: &str) -> Option<Message> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut message = Message::new_with_type(MessageType::Normal, Some(Jid::from(to.clone())));
    message.from = Some(Jid::from(domain.clone()));
    Some(message.with_body(Lang::new(), text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidom::Element;

    fn domain() -> BareJid {
        BareJid::new("example.com").unwrap()
    }

    #[test]
    fn parses_back_as_a_normal_message_with_body() {
        let to = FullJid::new("u@example.com/phone").unwrap();
        let message = motd(&domain(), &to, "  Welcome back!\n").unwrap();
        let parsed = Message::try_from(Element::from(message)).unwrap();
        assert_eq!(parsed.type_, MessageType::Normal);
        assert_eq!(
            parsed.bodies.get("").map(String::as_str),
            Some("Welcome back!")
        );
    }

    #[test]
    fn serialises_from_the_domain_to_the_full_jid() {
        let to = FullJid::new("u@example.com/phone").unwrap();
        assert_eq!(
            String::from(&Element::from(
                motd(&domain(), &to, "Maintenance at 22:00").unwrap()
            )),
            "<message xmlns='jabber:client' from='example.com' to='u@example.com/phone'>\
             <body>Maintenance at 22:00</body></message>"
        );
    }

    #[test]
    fn empty_text_sends_nothing() {
        let to = FullJid::new("u@example.com/phone").unwrap();
        assert_eq!(motd(&domain(), &to, " \n\t"), None);
    }
}
