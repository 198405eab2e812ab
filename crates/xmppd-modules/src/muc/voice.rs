//! XEP-0045 §7.13 and §8.6: a visitor of a moderated room asks for voice, every moderator gets
//! the request as a form, and a moderator who submits that form with `muc#request_allow` set
//! makes the visitor a participant.

use jid::{FullJid, Jid};
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType};
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::muc::user::Role;
use xmpp_parsers::ns;

use super::room::Room;
use super::{Fanout, MucError};

/// `FORM_TYPE` of voice requests and of the moderators' answers.
pub const NS_REQUEST: &str = "http://jabber.org/protocol/muc#request";

/// A `muc#request` form in a message to the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoiceForm {
    /// A visitor asks for voice.
    Request,
    /// A moderator answers the request of the occupant `nick`.
    Decision { nick: String, allow: bool },
}

impl VoiceForm {
    /// The voice form `message` carries; `None` when it carries none.
    pub fn find(message: &Message) -> Result<Option<Self>, MucError> {
        let Some(form) = message
            .payloads
            .iter()
            .filter(|p| p.is("x", ns::DATA_FORMS))
            .filter_map(|p| DataForm::try_from(p.clone()).ok())
            .find(|f| f.form_type() == Some(NS_REQUEST))
        else {
            return Ok(None);
        };
        if form.type_ != DataFormType::Submit {
            return Err(MucError::BadRequest("a voice request is a submitted form"));
        }
        let value = |var: &str| {
            form.fields
                .iter()
                .find(|f| f.var.as_deref() == Some(var))
                .and_then(|f| f.values.first())
                .map(String::as_str)
        };
        match value("muc#request_allow") {
            Some(allow) => {
                let nick = value("muc#roomnick")
                    .ok_or(MucError::BadRequest("the answer names no occupant"))?;
                Ok(Some(Self::Decision {
                    nick: nick.to_owned(),
                    allow: matches!(allow, "true" | "1"),
                }))
            }
            None if value("muc#role") == Some("participant") => Ok(Some(Self::Request)),
            None => Err(MucError::BadRequest(
                "only voice (participant) can be asked for",
            )),
        }
    }
}

impl Room {
    /// §7.13: a visitor asks for voice; each moderator gets the form to grant it. Asking with
    /// voice already, or with no moderator present, changes nothing.
    pub fn request_voice(&self, from: &FullJid) -> Result<Vec<Fanout>, MucError> {
        let asker = self.occupant(from).ok_or(MucError::NotOccupant)?;
        let moderators: Vec<Jid> = self
            .occupants
            .iter()
            .filter(|o| o.role == Role::Moderator)
            .map(|o| o.jid.clone().into())
            .collect();
        if asker.role != Role::Visitor || moderators.is_empty() {
            return Ok(Vec::new());
        }
        let mut form = DataForm::new(
            DataFormType::Form,
            NS_REQUEST,
            vec![
                labelled(
                    Field::new("muc#role", FieldType::ListSingle).with_value("participant"),
                    "Requested role",
                ),
                labelled(
                    Field::new("muc#jid", FieldType::JidSingle).with_value(&asker.jid.to_string()),
                    "User ID",
                ),
                labelled(
                    Field::text_single("muc#roomnick", &asker.nick),
                    "Room nickname",
                ),
                labelled(
                    Field::new("muc#request_allow", FieldType::Boolean).with_value("false"),
                    "Grant voice to this person?",
                ),
            ],
        );
        form.title = Some("Voice request".to_owned());
        form.instructions = Some(
            "To grant voice, check the box and submit the form; to skip the request, cancel."
                .to_owned(),
        );
        let mut message = Message::new_with_type(MessageType::Normal, None);
        message.from = Some(self.jid.clone().into());
        message.payloads.push(form.into());
        Ok(vec![Fanout {
            stanza: message.into(),
            to: moderators,
        }])
    }

    /// §8.6: a moderator answers a voice request. Granting makes a visitor a participant,
    /// which every occupant sees; a refusal, or a grant to an occupant who has voice, changes
    /// nothing.
    pub fn decide_voice(
        &mut self,
        from: &FullJid,
        nick: &str,
        allow: bool,
    ) -> Result<Vec<Fanout>, MucError> {
        let acting = self.occupant(from).ok_or(MucError::NotOccupant)?;
        if acting.role != Role::Moderator {
            return Err(MucError::Forbidden("only moderators grant voice"));
        }
        let target = self.by_nick(nick).ok_or(MucError::NoSuchOccupant)?;
        if !allow || target.role != Role::Visitor {
            return Ok(Vec::new());
        }
        self.set_role(from, nick, Role::Participant, None)
    }
}

fn labelled(mut field: Field, label: &str) -> Field {
    field.label = Some(label.to_owned());
    field
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::muc::config::RoomConfig;
    use crate::muc::tests::room_with;
    use minidom::Element;

    fn moderated_room(owner: &FullJid, visitor: &FullJid) -> Room {
        let mut config = RoomConfig::new(20);
        config.moderated = true;
        room_with(config, &[(owner, "Owner"), (visitor, "Quiet")])
    }

    fn message_with(form: &str) -> Message {
        let xml = format!("<message xmlns='jabber:client' to='room@conf.x.test'>{form}</message>");
        Message::try_from(xml.parse::<Element>().unwrap()).unwrap()
    }

    const REQUEST: &str = "<x xmlns='jabber:x:data' type='submit'>\
        <field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>\
        <field var='muc#role'><value>participant</value></field></x>";

    fn decision(nick: &str, allow: &str) -> String {
        format!(
            "<x xmlns='jabber:x:data' type='submit'>\
             <field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>\
             <field var='muc#roomnick'><value>{nick}</value></field>\
             <field var='muc#request_allow'><value>{allow}</value></field></x>"
        )
    }

    #[test]
    fn forms_are_recognised() {
        assert_eq!(
            VoiceForm::find(&message_with(REQUEST)).unwrap(),
            Some(VoiceForm::Request)
        );
        assert_eq!(
            VoiceForm::find(&message_with(&decision("Quiet", "1"))).unwrap(),
            Some(VoiceForm::Decision {
                nick: "Quiet".to_owned(),
                allow: true
            })
        );
        assert_eq!(VoiceForm::find(&message_with("")).unwrap(), None);
        let moderator = REQUEST.replace("participant", "moderator");
        assert!(VoiceForm::find(&message_with(&moderator)).is_err());
    }

    #[test]
    fn a_visitor_asks_and_a_moderator_grants_voice() {
        let owner = FullJid::new("owner@x.test/a").unwrap();
        let visitor = FullJid::new("quiet@x.test/b").unwrap();
        let mut room = moderated_room(&owner, &visitor);
        assert_eq!(room.occupant(&visitor).unwrap().role, Role::Visitor);

        let out = room.request_voice(&visitor).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].to, vec![Jid::from(owner.clone())]);
        let form = DataForm::try_from(
            out[0]
                .stanza
                .get_child("x", ns::DATA_FORMS)
                .unwrap()
                .clone(),
        )
        .unwrap();
        assert_eq!(form.form_type(), Some(NS_REQUEST));
        assert!(
            form.fields
                .iter()
                .any(|f| f.var.as_deref() == Some("muc#roomnick") && f.values == ["Quiet"])
        );

        // Only moderators decide; a refusal changes nothing.
        assert!(matches!(
            room.decide_voice(&visitor, "Quiet", true),
            Err(MucError::Forbidden(_))
        ));
        assert!(
            room.decide_voice(&owner, "Quiet", false)
                .unwrap()
                .is_empty()
        );
        assert_eq!(room.occupant(&visitor).unwrap().role, Role::Visitor);

        let granted = room.decide_voice(&owner, "Quiet", true).unwrap();
        assert!(!granted.is_empty());
        assert_eq!(room.occupant(&visitor).unwrap().role, Role::Participant);
        // With voice, asking again reaches nobody.
        assert!(room.request_voice(&visitor).unwrap().is_empty());
    }
}
