//! IQs between occupants. XEP-0045 §7.5 defines private messages; Prosody and ejabberd carry
//! IQs the same way, and clients rely on it to ask an occupant for its avatar, client version
//! or time. The room keeps real JIDs hidden: a request leaves from the sender's occupant JID,
//! and the answer comes back through the room from the target's occupant JID. IDs pass as
//! they are, so the asker matches the answer to its request.

use jid::Jid;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;

use super::room::Room;
use super::{Fanout, MucError};

impl Room {
    /// An occupant's request (`get` or `set`) to `room/nick`. A vCard request goes to the
    /// target's account (its server answers for it; clients do not), any other to the
    /// target's session.
    pub fn forward_iq_request(
        &self,
        from: &jid::FullJid,
        nick: &str,
        mut iq: Iq,
    ) -> Result<Fanout, MucError> {
        let sender = self.occupant(from).ok_or(MucError::NotOccupant)?;
        let target = self.by_nick(nick).ok_or(MucError::NoSuchOccupant)?;
        let via = self
            .occupant_jid(&sender.nick)
            .ok_or(MucError::NotOccupant)?;
        let asks_for_vcard = match &iq {
            Iq::Get { payload, .. } | Iq::Set { payload, .. } => payload.is("vCard", ns::VCARD),
            Iq::Result { .. } | Iq::Error { .. } => {
                return Err(MucError::BadRequest("only requests are forwarded"));
            }
        };
        let to: Jid = if asks_for_vcard {
            target.jid.to_bare().into()
        } else {
            target.jid.clone().into()
        };
        *iq.from_mut() = Some(via.into());
        *iq.to_mut() = None;
        Ok(Fanout::one(iq, to))
    }

    /// An answer (`result` or `error`) from an occupant's session, or for a vCard from its
    /// account, to `room/nick`: passed to that occupant from the answerer's occupant JID.
    /// `None` (the answer is dropped, as errors to errors are never sent) when the answerer is
    /// no occupant or nobody has the nick.
    pub fn forward_iq_answer(&self, from: &Jid, nick: &str, mut iq: Iq) -> Option<Fanout> {
        if matches!(iq, Iq::Get { .. } | Iq::Set { .. }) {
            return None;
        }
        let answerer = match from.try_as_full() {
            Ok(full) => self.occupant(full),
            Err(bare) => self.occupants.iter().find(|o| &o.jid.to_bare() == bare),
        }?;
        let target = self.by_nick(nick)?;
        *iq.from_mut() = Some(self.occupant_jid(&answerer.nick)?.into());
        *iq.to_mut() = None;
        Some(Fanout::one(iq, target.jid.clone().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::muc::config::RoomConfig;
    use crate::muc::tests::room_with;
    use jid::FullJid;
    use minidom::Element;

    fn iq(xml: &str) -> Iq {
        Iq::try_from(xml.parse::<Element>().unwrap()).unwrap()
    }

    #[test]
    fn requests_and_answers_cross_under_occupant_jids() {
        let alice = FullJid::new("alice@x.test/phone").unwrap();
        let bob = FullJid::new("bob@y.test/desk").unwrap();
        let room = room_with(RoomConfig::new(20), &[(&alice, "Alice"), (&bob, "Bob")]);
        let ask = iq(
            "<iq xmlns='jabber:client' type='get' id='v1' from='alice@x.test/phone' \
                      to='room@conf.x.test/Bob'><query xmlns='jabber:iq:version'/></iq>",
        );
        let out = room.forward_iq_request(&alice, "Bob", ask).unwrap();
        assert_eq!(out.to, vec![Jid::from(bob.clone())]);
        assert_eq!(out.stanza.attr("from"), Some("room@conf.x.test/Alice"));
        assert_eq!(out.stanza.attr("to"), None);
        assert_eq!(out.stanza.attr("id"), Some("v1"));

        let answer = iq(
            "<iq xmlns='jabber:client' type='result' id='v1' from='bob@y.test/desk' \
                         to='room@conf.x.test/Alice'/>",
        );
        let back = room
            .forward_iq_answer(&Jid::from(bob.clone()), "Alice", answer.clone())
            .unwrap();
        assert_eq!(back.to, vec![Jid::from(alice.clone())]);
        assert_eq!(back.stanza.attr("from"), Some("room@conf.x.test/Bob"));
        assert_eq!(back.stanza.attr("id"), Some("v1"));

        // Strangers neither ask nor answer through the room.
        let stranger = FullJid::new("eve@z.test/x").unwrap();
        let ask = iq("<iq xmlns='jabber:client' type='get' id='v2'>\
                      <ping xmlns='urn:xmpp:ping'/></iq>");
        assert_eq!(
            room.forward_iq_request(&stranger, "Bob", ask.clone())
                .unwrap_err(),
            MucError::NotOccupant
        );
        assert!(
            room.forward_iq_answer(&Jid::from(stranger), "Alice", answer.clone())
                .is_none()
        );
        assert_eq!(
            room.forward_iq_request(&alice, "Nobody", ask).unwrap_err(),
            MucError::NoSuchOccupant
        );
    }

    #[test]
    fn vcard_requests_go_to_the_account_and_its_answer_comes_back() {
        let alice = FullJid::new("alice@x.test/phone").unwrap();
        let bob = FullJid::new("bob@y.test/desk").unwrap();
        let room = room_with(RoomConfig::new(20), &[(&alice, "Alice"), (&bob, "Bob")]);
        let ask = iq("<iq xmlns='jabber:client' type='get' id='c1'>\
                      <vCard xmlns='vcard-temp'/></iq>");
        let out = room.forward_iq_request(&alice, "Bob", ask).unwrap();
        assert_eq!(out.to, vec![Jid::from(bob.to_bare())]);
        let answer = iq(
            "<iq xmlns='jabber:client' type='result' id='c1' from='bob@y.test'>\
                         <vCard xmlns='vcard-temp'/></iq>",
        );
        let back = room
            .forward_iq_answer(&Jid::from(bob.to_bare()), "Alice", answer)
            .unwrap();
        assert_eq!(back.to, vec![Jid::from(alice)]);
        assert_eq!(back.stanza.attr("from"), Some("room@conf.x.test/Bob"));
    }
}
