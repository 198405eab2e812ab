//! XEP-0045 §10.9: an owner destroys a room. Every occupant is told, with the reason and an
//! alternate venue if the owner gave them; then the room is gone (also from storage).

use jid::BareJid;
use minidom::Element;
use xmpp_parsers::muc::user::{Affiliation, Item, MucUser, Role};
use xmpp_parsers::ns::MUC_USER as NS_USER;
use xmpp_parsers::presence::{Presence, Type as PresenceType};

use super::room::Room;
use super::{Fanout, MucError, NS_OWNER};

/// Longest reason kept, in bytes; a longer one is cut at a character boundary.
const MAX_REASON: usize = 1024;
/// Longest alternate-venue password passed on; a longer one is refused, not cut (a cut password
/// would be wrong).
const MAX_PASSWORD: usize = 256;

/// What the owner asked for: every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destroy {
    pub alternate: Option<BareJid>,
    pub reason: Option<String>,
    /// The alternate venue's password, passed on so occupants can enter it (§10.9).
    pub password: Option<String>,
}

impl Destroy {
    /// The `<destroy/>` of a `muc#owner` query; `None` when the query holds none.
    pub fn parse(query: &Element) -> Result<Option<Self>, MucError> {
        let Some(destroy) = query.get_child("destroy", NS_OWNER) else {
            return Ok(None);
        };
        let alternate = match destroy.attr("jid") {
            Some(jid) => Some(
                BareJid::new(jid)
                    .map_err(|_| MucError::BadRequest("the alternate venue is not a room JID"))?,
            ),
            None => None,
        };
        let reason = destroy
            .get_child("reason", NS_OWNER)
            .map(|r| truncate(r.text()))
            .filter(|r| !r.is_empty());
        let password = match destroy.get_child("password", NS_OWNER).map(Element::text) {
            Some(p) if p.len() > MAX_PASSWORD => {
                return Err(MucError::BadRequest(
                    "the alternate venue's password is too long",
                ));
            }
            Some(p) if !p.is_empty() => Some(p),
            _ => None,
        };
        Ok(Some(Self {
            alternate,
            reason,
            password,
        }))
    }

    fn to_user_element(&self) -> Element {
        let mut destroy = Element::builder("destroy", NS_USER)
            .attr(
                minidom::rxml::NcName::try_from("jid").expect("a valid attribute name"),
                self.alternate.as_ref().map(ToString::to_string),
            )
            .build();
        if let Some(reason) = &self.reason {
            destroy.append_child(
                Element::builder("reason", NS_USER)
                    .append(reason.as_str())
                    .build(),
            );
        }
        if let Some(password) = &self.password {
            destroy.append_child(
                Element::builder("password", NS_USER)
                    .append(password.as_str())
                    .build(),
            );
        }
        destroy
    }
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_REASON {
        let mut end = MAX_REASON;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

impl Room {
    /// An owner destroys the room: each occupant gets an unavailable presence from its own
    /// occupant JID carrying the `<destroy/>`, and the room refuses everything from now on.
    pub fn destroy(&mut self, actor: &BareJid, request: &Destroy) -> Result<Vec<Fanout>, MucError> {
        if self.affiliation(actor) != Affiliation::Owner {
            return Err(MucError::Forbidden("only owners may destroy the room"));
        }
        let mut out = Vec::with_capacity(self.occupants.len());
        for occupant in std::mem::take(&mut self.occupants) {
            let mut x: Element = MucUser {
                status: vec![],
                items: vec![Item::new(Affiliation::None, Role::None)],
                invite: None,
                decline: None,
                affiliations: None,
            }
            .into();
            x.append_child(request.to_user_element());
            let mut presence = Presence::new(PresenceType::Unavailable);
            presence.from = self.occupant_jid(&occupant.nick).map(Into::into);
            presence.payloads.push(x);
            out.push(Fanout::one(presence, occupant.jid.into()));
        }
        self.destroyed = true;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::muc::config::RoomConfig;
    use crate::muc::room::Enter;
    use chrono::Utc;
    use jid::FullJid;

    fn enter<'a>(from: &'a FullJid, nick: &'a str) -> Enter<'a> {
        Enter {
            from,
            nick,
            presence: Presence::new(PresenceType::None),
            password: None,
            history: None,
        }
    }

    fn request(xml: &str) -> Result<Option<Destroy>, MucError> {
        Destroy::parse(&xml.parse::<Element>().unwrap())
    }

    #[test]
    fn owner_destroys_and_every_occupant_is_told() {
        let alice = FullJid::new("alice@x.test/a").unwrap();
        let bob = FullJid::new("bob@x.test/b").unwrap();
        let mut room = Room::create(
            BareJid::new("room@conf.x.test").unwrap(),
            alice.to_bare(),
            RoomConfig::new(20),
        );
        room.locked = false;
        room.enter(enter(&alice, "Alice"), true, Utc::now())
            .unwrap();
        room.enter(enter(&bob, "Bob"), false, Utc::now()).unwrap();
        let how = request(
            "<query xmlns='http://jabber.org/protocol/muc#owner'>\
             <destroy jid='elsewhere@conf.x.test'><reason>moved</reason>\
             <password>secret</password></destroy></query>",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            room.destroy(&bob.to_bare(), &how).unwrap_err(),
            MucError::Forbidden("only owners may destroy the room")
        );
        assert!(!room.should_vanish());
        let out = room.destroy(&alice.to_bare(), &how).unwrap();
        assert_eq!(out.len(), 2);
        let to_bob = out
            .iter()
            .find(|f| f.to == vec![jid::Jid::from(bob.clone())])
            .unwrap();
        assert_eq!(to_bob.stanza.attr("from"), Some("room@conf.x.test/Bob"));
        assert_eq!(to_bob.stanza.attr("type"), Some("unavailable"));
        let destroy = to_bob
            .stanza
            .get_child("x", NS_USER)
            .and_then(|x| x.get_child("destroy", NS_USER))
            .unwrap();
        assert_eq!(destroy.attr("jid"), Some("elsewhere@conf.x.test"));
        assert_eq!(
            destroy.get_child("reason", NS_USER).unwrap().text(),
            "moved"
        );
        assert_eq!(
            destroy.get_child("password", NS_USER).unwrap().text(),
            "secret"
        );
        assert!(room.should_vanish());
        assert_eq!(
            room.enter(enter(&bob, "Bob"), false, Utc::now())
                .unwrap_err(),
            MucError::Gone
        );
    }

    #[test]
    fn requests_are_checked() {
        assert_eq!(
            request("<query xmlns='http://jabber.org/protocol/muc#owner'/>").unwrap(),
            None
        );
        assert_eq!(
            request("<query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query>")
                .unwrap(),
            Some(Destroy::default())
        );
        assert!(
            request(
                "<query xmlns='http://jabber.org/protocol/muc#owner'>\
                 <destroy jid='not a jid@@'/></query>"
            )
            .is_err()
        );
        let long = "x".repeat(5000);
        let how = request(&format!(
            "<query xmlns='http://jabber.org/protocol/muc#owner'>\
             <destroy><reason>{long}</reason></destroy></query>"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(how.reason.unwrap().len(), MAX_REASON);
        let long = "p".repeat(MAX_PASSWORD + 1);
        assert!(
            request(&format!(
                "<query xmlns='http://jabber.org/protocol/muc#owner'>\
                 <destroy><password>{long}</password></destroy></query>"
            ))
            .is_err()
        );
    }
}
