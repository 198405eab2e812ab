//! XEP-0045 §7.4-§7.5, §7.8 and §8.1: what occupants say in a room: groupchat messages (kept
//! for history), subject changes, private messages, and mediated invitations and declines.

use chrono::{DateTime, Utc};
use jid::{FullJid, Jid};
use minidom::Element;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::muc::user::{Affiliation, Decline, Invite, MucUser, Role};

use super::history::Entry;
use super::room::{Room, Subject};
use super::{Fanout, MucError, roles};

impl Room {
    /// A `groupchat` message from an occupant (§7.4), or a subject change (§8.1).
    pub fn groupchat(
        &mut self,
        from: &FullJid,
        message: Message,
        now: DateTime<Utc>,
    ) -> Result<Vec<Fanout>, MucError> {
        self.groupchat_with_id(from, message, now, None)
    }

    /// As [`Room::groupchat`]; a message with a body gets the room's XEP-0359 stanza id
    /// `archive_id` (in the fan-out and the history) when the room archives it.
    pub fn groupchat_with_id(
        &mut self,
        from: &FullJid,
        mut message: Message,
        now: DateTime<Utc>,
        archive_id: Option<&str>,
    ) -> Result<Vec<Fanout>, MucError> {
        let sender = self.occupant(from).ok_or(MucError::NotOccupant)?.clone();
        let is_subject = !message.subjects.is_empty() && message.bodies.is_empty();
        if is_subject {
            let may = sender.role == Role::Moderator
                || (self.config.change_subject && sender.role == Role::Participant);
            if !may {
                return Err(MucError::Forbidden("you may not change the subject"));
            }
        } else if sender.role == Role::Visitor || sender.role == Role::None {
            return Err(MucError::Forbidden("visitors have no voice in this room"));
        }
        message.from = self.occupant_jid(&sender.nick).map(Into::into);
        message.to = None;
        // XEP-0359 §5: no occupant may plant a stanza id in the room's name.
        let room = Jid::from(self.jid.clone());
        message.payloads.retain(|p| {
            !(p.is("stanza-id", xmpp_parsers::ns::SID)
                && p.attr("by").and_then(|b| Jid::new(b).ok()).as_ref() == Some(&room))
        });
        if let Some(id) = archive_id.filter(|_| !is_subject && !message.bodies.is_empty()) {
            crate::xep0313_mam::stamp_stanza_id(&mut message, &self.jid, id);
        }
        let stanza = Element::from(message.clone());
        if is_subject {
            let text = message
                .subjects
                .values()
                .next()
                .cloned()
                .unwrap_or_default();
            self.subject = (!text.is_empty()).then(|| Subject {
                text,
                by: sender.nick.clone(),
            });
        } else if !message.bodies.is_empty() {
            let chars = size_of(&stanza);
            self.history.push(
                Entry {
                    stanza: stanza.clone(),
                    at: now,
                    chars,
                },
                self.config.history_length,
            );
        }
        Ok(vec![Fanout {
            stanza,
            to: self
                .occupants
                .iter()
                .map(|o| o.jid.clone().into())
                .collect(),
        }])
    }

    /// A private message to `room/nick` (§7.5): from the sender's occupant JID.
    pub fn private(
        &self,
        from: &FullJid,
        nick: &str,
        mut message: Message,
    ) -> Result<Fanout, MucError> {
        let sender = self.occupant(from).ok_or(MucError::NotOccupant)?;
        let target = self.by_nick(nick).ok_or(MucError::NoSuchOccupant)?;
        message.from = self.occupant_jid(&sender.nick).map(Into::into);
        message.to = None;
        message
            .payloads
            .retain(|p| !p.is("x", xmpp_parsers::ns::MUC_USER));
        message.payloads.push(MucUser::new().into());
        Ok(Fanout::one(message, target.jid.clone().into()))
    }

    /// Mediated invitations and declines in a message to the room (§7.8.2, §7.8.2.1). A
    /// members-only room adds the invitee to the member list when an admin invites.
    pub fn invite(&mut self, from: &FullJid, user: MucUser) -> Result<Vec<Fanout>, MucError> {
        let mut out = Vec::new();
        if let Some(invite) = user.invite {
            // Only occupants invite through the room.
            self.occupant(from).ok_or(MucError::NotOccupant)?;
            let aff = self.affiliation(&from.to_bare());
            let is_admin = roles::rank(&aff) >= roles::rank(&Affiliation::Admin);
            if !self.config.allow_invites && !is_admin {
                return Err(MucError::Forbidden("only admins invite to this room"));
            }
            let to = invite
                .to
                .ok_or(MucError::BadRequest("an invite names its invitee"))?;
            if self.config.members_only
                && is_admin
                && self.affiliation(&to.to_bare()) == Affiliation::None
            {
                self.affiliations.insert(to.to_bare(), Affiliation::Member);
            }
            let mut x = MucUser::new();
            x.invite = Some(Invite {
                from: Some(from.to_bare().into()),
                to: None,
                reason: invite.reason,
            });
            let mut payloads = vec![Element::from(x)];
            if let Some(password) = &self.config.password {
                payloads[0].append_child(
                    Element::builder("password", xmpp_parsers::ns::MUC_USER)
                        .append(password.clone())
                        .build(),
                );
            }
            let mut message = Message::new(None).with_payloads(payloads);
            message.type_ = MessageType::Normal;
            message.from = Some(self.jid.clone().into());
            out.push(Fanout {
                stanza: message.into(),
                to: vec![to],
            });
        }
        if let Some(decline) = user.decline {
            let to = decline
                .to
                .ok_or(MucError::BadRequest("a decline names the inviter"))?;
            let mut x = MucUser::new();
            x.decline = Some(Decline {
                from: Some(from.to_bare().into()),
                to: None,
                reason: decline.reason,
            });
            let mut message = Message::new(None).with_payloads(vec![x.into()]);
            message.from = Some(self.jid.clone().into());
            out.push(Fanout {
                stanza: message.into(),
                to: vec![to],
            });
        }
        Ok(out)
    }

    /// The subject message sent last on entering (§7.2.15): empty when none is set.
    pub fn subject_message(&self) -> Message {
        let (from, text) = match &self.subject {
            Some(s) => (
                self.occupant_jid(&s.by)
                    .map_or_else(|| Jid::from(self.jid.clone()), Jid::from),
                s.text.clone(),
            ),
            None => (Jid::from(self.jid.clone()), String::new()),
        };
        let mut message = Message::groupchat(None);
        message.from = Some(from);
        message
            .subjects
            .insert(xmpp_parsers::message::Lang::new(), text);
        message
    }
}

fn size_of(stanza: &Element) -> usize {
    let mut bytes = Vec::new();
    let _ = stanza.write_to(&mut bytes);
    bytes.len()
}
