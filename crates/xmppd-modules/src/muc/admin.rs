//! XEP-0045 §8-§10 by IQ: `muc#admin` items (kick, voice, ban, member/admin/owner lists and
//! changes) and the owner's configuration of the room.

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::data_forms::DataForm;
use xmpp_parsers::muc::user::{Affiliation, Role, Status};

use super::config::Whois;
use super::presence::Extra;
use super::room::Room;
use super::{Fanout, MucError, NS_ADMIN, roles};

/// Items accepted in one `muc#admin` request.
pub const MAX_ITEMS: usize = 100;

/// One `<item/>` of a `muc#admin` request.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminItem {
    /// Change an occupant's role, by nick.
    Role {
        nick: String,
        role: Role,
        reason: Option<String>,
    },
    /// Change an affiliation, by bare JID.
    Affiliation {
        jid: BareJid,
        affiliation: Affiliation,
        reason: Option<String>,
    },
    /// Ask for everyone with this role.
    ListRole(Role),
    /// Ask for everyone with this affiliation.
    ListAffiliation(Affiliation),
}

/// Parses the items of a `muc#admin` query (`set` or `get`).
pub fn parse(query: &Element, is_set: bool) -> Result<Vec<AdminItem>, MucError> {
    let mut items = Vec::new();
    for child in query.children().filter(|c| c.is("item", NS_ADMIN)) {
        if items.len() >= MAX_ITEMS {
            return Err(MucError::BadRequest("too many items"));
        }
        let reason = child.get_child("reason", NS_ADMIN).map(Element::text);
        let role = child
            .attr("role")
            .map(|r| roles::parse_role(r).ok_or(MucError::BadRequest("unknown role")));
        let affiliation = child.attr("affiliation").map(|a| {
            roles::parse_affiliation(a).ok_or(MucError::BadRequest("unknown affiliation"))
        });
        let item = match (is_set, role.transpose()?, affiliation.transpose()?) {
            (false, Some(role), None) => AdminItem::ListRole(role),
            (false, None, Some(affiliation)) => AdminItem::ListAffiliation(affiliation),
            (true, Some(role), None) => AdminItem::Role {
                nick: child
                    .attr("nick")
                    .ok_or(MucError::BadRequest("a role change names a nick"))?
                    .to_owned(),
                role,
                reason,
            },
            (true, None, Some(affiliation)) => AdminItem::Affiliation {
                jid: child
                    .attr("jid")
                    .and_then(|j| Jid::new(j).ok())
                    .ok_or(MucError::BadRequest("an affiliation change names a JID"))?
                    .to_bare(),
                affiliation,
                reason,
            },
            _ => {
                return Err(MucError::BadRequest(
                    "an item has either a role or an affiliation",
                ));
            }
        };
        items.push(item);
    }
    if items.is_empty() {
        return Err(MucError::BadRequest("no item"));
    }
    Ok(items)
}

impl Room {
    /// Changes an occupant's role (§8.2 kick, §8.3-8.4 voice, §9.6-9.7 moderator).
    pub fn set_role(
        &mut self,
        actor: &FullJid,
        nick: &str,
        role: Role,
        reason: Option<String>,
    ) -> Result<Vec<Fanout>, MucError> {
        let acting = self.occupant(actor).ok_or(MucError::NotOccupant)?.clone();
        let pos = self
            .occupants
            .iter()
            .position(|o| o.nick == nick)
            .ok_or(MucError::NoSuchOccupant)?;
        let target_aff = self.affiliation(&self.occupants[pos].jid.to_bare());
        roles::may_set_role(
            &acting.role,
            &self.affiliation(&actor.to_bare()),
            &target_aff,
            &role,
        )?;
        if role == Role::None {
            let extra = Extra {
                codes: vec![Status::Kicked],
                reason,
                actor: Some(acting.nick),
                ..Extra::default()
            };
            let out = self.unavailable_of(pos, &extra);
            self.occupants.remove(pos);
            return Ok(out);
        }
        self.occupants[pos].role = role;
        Ok(self.presence_of(
            pos,
            &Extra {
                reason,
                ..Extra::default()
            },
            true,
        ))
    }

    /// Changes an affiliation (§9.1 ban, §9.3 member, §10.3 owner, §10.6 admin ...). Occupants
    /// of that bare JID see the change; banned ones, and non-members of a members-only room,
    /// are removed.
    pub fn set_affiliation(
        &mut self,
        actor: &BareJid,
        jid: &BareJid,
        affiliation: Affiliation,
        reason: Option<String>,
    ) -> Result<Vec<Fanout>, MucError> {
        let old = self.affiliation(jid);
        roles::may_set_affiliation(&self.affiliation(actor), &old, &affiliation)?;
        if old == Affiliation::Owner
            && affiliation != Affiliation::Owner
            && self
                .affiliations
                .values()
                .filter(|a| **a == Affiliation::Owner)
                .count()
                == 1
        {
            return Err(MucError::LastOwner);
        }
        if affiliation == Affiliation::None {
            self.affiliations.remove(jid);
        } else {
            self.affiliations.insert(jid.clone(), affiliation.clone());
        }
        let actor_nick = self
            .occupants
            .iter()
            .find(|o| &o.jid.to_bare() == actor)
            .map(|o| o.nick.clone());
        let mut out = Vec::new();
        while let Some(pos) = self
            .occupants
            .iter()
            .position(|o| &o.jid.to_bare() == jid && o.role != Role::None)
        {
            let removed = match affiliation {
                Affiliation::Outcast => Some(Status::Banned),
                _ if self.config.members_only
                    && roles::rank(&affiliation) < roles::rank(&Affiliation::Member) =>
                {
                    Some(Status::ConfigMembersOnly)
                }
                _ => None,
            };
            if let Some(code) = removed {
                let extra = Extra {
                    codes: vec![code],
                    reason: reason.clone(),
                    actor: actor_nick.clone(),
                    ..Extra::default()
                };
                out.extend(self.unavailable_of(pos, &extra));
                self.occupants.remove(pos);
                continue;
            }
            self.occupants[pos].role = roles::default_role(&affiliation, self.config.moderated);
            out.extend(self.presence_of(
                pos,
                &Extra {
                    reason: reason.clone(),
                    ..Extra::default()
                },
                true,
            ));
            // Marked so the loop visits each occupant once; restored right after.
            self.occupants[pos].role = Role::None;
        }
        for o in self
            .occupants
            .iter_mut()
            .filter(|o| &o.jid.to_bare() == jid)
        {
            o.role = roles::default_role(&affiliation, self.config.moderated);
        }
        Ok(out)
    }

    /// Answers a list request with `muc#admin` items (§9.5, §10.5, §8.5 voice list).
    pub fn list(&self, actor: &FullJid, what: &AdminItem) -> Result<Vec<Element>, MucError> {
        let actor_aff = self.affiliation(&actor.to_bare());
        let item =
            |jid: String, affiliation: &Affiliation, role: Option<&Role>, nick: Option<&str>| {
                let mut b = Element::builder("item", NS_ADMIN)
                    .attr(
                        rxml::xml_ncname!("affiliation").to_owned(),
                        roles::affiliation_name(affiliation),
                    )
                    .attr(rxml::xml_ncname!("jid").to_owned(), jid);
                if let Some(role) = role {
                    b = b.attr(rxml::xml_ncname!("role").to_owned(), role_name(role));
                }
                if let Some(nick) = nick {
                    b = b.attr(rxml::xml_ncname!("nick").to_owned(), nick);
                }
                b.build()
            };
        match what {
            AdminItem::ListAffiliation(wanted) => {
                roles::may_list_affiliation(&actor_aff)?;
                Ok(self
                    .affiliations
                    .iter()
                    .filter(|(_, a)| *a == wanted)
                    .map(|(j, a)| item(j.to_string(), a, None, None))
                    .collect())
            }
            AdminItem::ListRole(wanted) => {
                let acting = self.occupant(actor).ok_or(MucError::NotOccupant)?;
                if acting.role != Role::Moderator {
                    return Err(MucError::Forbidden("only moderators list roles"));
                }
                Ok(self
                    .occupants
                    .iter()
                    .filter(|o| &o.role == wanted)
                    .map(|o| {
                        item(
                            o.jid.to_string(),
                            &self.affiliation(&o.jid.to_bare()),
                            Some(&o.role),
                            Some(&o.nick),
                        )
                    })
                    .collect())
            }
            _ => Err(MucError::BadRequest("not a list request")),
        }
    }

    /// The configuration form for an owner (§10.2).
    pub fn config_form(&self, actor: &BareJid, max_history: u32) -> Result<DataForm, MucError> {
        self.require_owner(actor)?;
        Ok(self.config.to_form(max_history))
    }

    /// An owner submits (or, for an instant room, accepts) the configuration (§10.1.2,
    /// §10.2); the room unlocks. Making the room members-only removes non-members.
    pub fn configure(
        &mut self,
        actor: &BareJid,
        form: &DataForm,
        max_history: u32,
    ) -> Result<Vec<Fanout>, MucError> {
        self.require_owner(actor)?;
        let was_anonymous = self.config.whois == Whois::Moderators;
        self.config.apply(form, max_history)?;
        self.locked = false;
        self.history.trim(self.config.history_length);
        let mut out = Vec::new();
        if self.config.members_only {
            while let Some(pos) = self.occupants.iter().position(|o| {
                roles::rank(&self.affiliation(&o.jid.to_bare())) < roles::rank(&Affiliation::Member)
            }) {
                out.extend(self.unavailable_of(
                    pos,
                    &Extra {
                        codes: vec![Status::ConfigMembersOnly],
                        ..Extra::default()
                    },
                ));
                self.occupants.remove(pos);
            }
        }
        if was_anonymous != (self.config.whois == Whois::Moderators) {
            // §10.2.1: occupants learn that real JIDs became visible (172) or hidden (173).
            let code = if self.config.whois == Whois::Anyone {
                Status::ConfigRoomNonAnonymous
            } else {
                Status::ConfigRoomSemiAnonymous
            };
            let x = xmpp_parsers::muc::user::MucUser::new().with_statuses(vec![code]);
            let mut message =
                xmpp_parsers::message::Message::groupchat(None).with_payloads(vec![x.into()]);
            message.from = Some(self.jid.clone().into());
            out.push(Fanout {
                stanza: message.into(),
                to: self
                    .occupants
                    .iter()
                    .map(|o| o.jid.clone().into())
                    .collect(),
            });
        }
        Ok(out)
    }

    /// Only owners change the room's vCard (its avatar).
    pub fn set_vcard(&mut self, actor: &BareJid, vcard: Element) -> Result<(), MucError> {
        self.require_owner(actor)?;
        self.vcard = Some(vcard);
        Ok(())
    }

    fn require_owner(&self, actor: &BareJid) -> Result<(), MucError> {
        if self.affiliation(actor) == Affiliation::Owner {
            Ok(())
        } else {
            Err(MucError::Forbidden("only owners may do that"))
        }
    }
}

fn role_name(role: &Role) -> &'static str {
    match role {
        Role::Moderator => "moderator",
        Role::Participant => "participant",
        Role::Visitor => "visitor",
        Role::None => "none",
    }
}
