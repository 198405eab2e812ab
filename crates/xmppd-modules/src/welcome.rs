//! Welcome message sent to a newly registered account (as Prosody's mod_welcome does): from
//! the domain to the bare JID, type `normal`, so it waits offline until the first login.
//! `$user` and `$host` in the configured text are replaced.

use jid::{BareJid, Jid};
use xmpp_parsers::message::{Lang, Message, MessageType};

/// The welcome message for `account`, or `None` when the text is empty or the JID has no
/// localpart (only accounts are welcomed).
pub fn welcome(account: &BareJid, text: &str) -> Option<Message> {
    let user = account.node()?.as_str();
    let host = account.domain().as_str();
    let text = text.trim().replace("$user", user).replace("$host", host);
    if text.is_empty() {
        return None;
    }
    let domain = BareJid::new(host).ok()?;
    let mut message = Message::new_with_type(MessageType::Normal, Some(Jid::from(account.clone())));
    message.from = Some(Jid::from(domain));
    Some(message.with_body(Lang::new(), text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidom::Element;

    #[test]
    fn parses_back_with_placeholders_replaced() {
        let account = BareJid::new("juliet@capulet.lit").unwrap();
        let message = welcome(&account, "Hello $user, welcome to $host!").unwrap();
        let parsed = Message::try_from(Element::from(message)).unwrap();
        assert_eq!(
            parsed.bodies.get("").map(String::as_str),
            Some("Hello juliet, welcome to capulet.lit!")
        );
    }

    #[test]
    fn serialises_from_the_domain_to_the_bare_jid() {
        let account = BareJid::new("juliet@capulet.lit").unwrap();
        assert_eq!(
            String::from(&Element::from(welcome(&account, "Hi").unwrap())),
            "<message xmlns='jabber:client' from='capulet.lit' to='juliet@capulet.lit'>\
             <body>Hi</body></message>"
        );
    }

    #[test]
    fn nothing_for_empty_text_or_a_domain_jid() {
        let account = BareJid::new("juliet@capulet.lit").unwrap();
        assert_eq!(welcome(&account, "   "), None);
        assert_eq!(welcome(&BareJid::new("capulet.lit").unwrap(), "Hi"), None);
    }
}
