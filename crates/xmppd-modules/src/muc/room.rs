//! XEP-0045 §7: a room's state, and occupants entering it (with its error cases, history and
//! subject), changing nick or presence, and leaving. What they say is in `messages.rs`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::delay::Delay;
use xmpp_parsers::muc::muc::History as HistoryRequest;
use xmpp_parsers::muc::user::{Affiliation, Role, Status};
use xmpp_parsers::presence::Presence;

use super::config::{RoomConfig, Whois};
use super::history::History;
use super::presence::{self, About, Audience, Extra};
use super::{Fanout, MucError, roles};

/// Longest nickname accepted, in bytes.
pub const MAX_NICK: usize = 128;
/// Most occupants one room holds.
pub const MAX_OCCUPANTS: usize = 1000;

/// Someone in the room.
#[derive(Debug, Clone)]
pub struct Occupant {
    pub nick: String,
    pub jid: FullJid,
    pub role: Role,
    /// The occupant's last presence, cleaned of MUC elements.
    pub presence: Presence,
}

/// The current subject and who set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub text: String,
    pub by: String,
}

/// A room.
#[derive(Debug, Clone)]
pub struct Room {
    pub jid: BareJid,
    pub config: RoomConfig,
    /// Every affiliation other than `none`.
    pub affiliations: BTreeMap<BareJid, Affiliation>,
    pub occupants: Vec<Occupant>,
    pub subject: Option<Subject>,
    /// A new room stays locked until its owner accepts or submits the configuration (§10.1).
    pub locked: bool,
    pub history: History,
    /// The room's vCard (room avatar), as its owners set it.
    pub vcard: Option<Element>,
    /// The room keeps a XEP-0313 archive (set by the server, not stored with the room).
    pub archived: bool,
    /// Destroyed by an owner (§10.9): it takes nobody in and goes away.
    pub destroyed: bool,
}

/// A presence from a would-be or current occupant.
#[derive(Debug, Clone)]
pub struct Enter<'a> {
    pub from: &'a FullJid,
    pub nick: &'a str,
    pub presence: Presence,
    pub password: Option<&'a str>,
    pub history: Option<&'a HistoryRequest>,
}

impl Room {
    /// A room just created by `owner`: locked until configured (§10.1.1).
    pub fn create(jid: BareJid, owner: BareJid, config: RoomConfig) -> Self {
        let mut affiliations = BTreeMap::new();
        affiliations.insert(owner, Affiliation::Owner);
        Self {
            jid,
            config,
            affiliations,
            occupants: Vec::new(),
            subject: None,
            locked: true,
            history: History::default(),
            vcard: None,
            archived: false,
            destroyed: false,
        }
    }

    /// A stored (persistent) room, unlocked.
    pub fn restore(
        jid: BareJid,
        config: RoomConfig,
        affiliations: BTreeMap<BareJid, Affiliation>,
        subject: Option<Subject>,
        vcard: Option<Element>,
    ) -> Self {
        Self {
            jid,
            config,
            affiliations,
            occupants: Vec::new(),
            subject,
            locked: false,
            history: History::default(),
            vcard,
            archived: false,
            destroyed: false,
        }
    }

    pub fn affiliation(&self, jid: &BareJid) -> Affiliation {
        self.affiliations
            .get(jid)
            .cloned()
            .unwrap_or(Affiliation::None)
    }

    pub fn occupant(&self, jid: &FullJid) -> Option<&Occupant> {
        self.occupants.iter().find(|o| &o.jid == jid)
    }

    pub fn by_nick(&self, nick: &str) -> Option<&Occupant> {
        self.occupants.iter().find(|o| o.nick == nick)
    }

    /// `room@service/nick`; `None` when the nick is no valid resourcepart.
    pub fn occupant_jid(&self, nick: &str) -> Option<FullJid> {
        self.jid.with_resource_str(nick).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.occupants.is_empty()
    }

    /// Handles an available presence to `room/nick` (§7.2 enter, §7.6 nick change, §7.7
    /// presence change).
    pub fn enter(
        &mut self,
        req: Enter<'_>,
        created: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<Fanout>, MucError> {
        if req.nick.is_empty() || req.nick.len() > MAX_NICK || self.occupant_jid(req.nick).is_none()
        {
            return Err(MucError::BadNick);
        }
        let presence = presence::sanitise(req.presence);
        if let Some(pos) = self.occupants.iter().position(|o| &o.jid == req.from) {
            if self.occupants[pos].nick == req.nick {
                self.occupants[pos].presence = presence;
                return Ok(self.presence_of(pos, &Extra::default(), true));
            }
            return self.change_nick(pos, req.nick, presence);
        }
        if self.destroyed {
            return Err(MucError::Gone);
        }
        let bare = req.from.to_bare();
        let affiliation = self.affiliation(&bare);
        if self.locked && affiliation != Affiliation::Owner {
            return Err(MucError::Locked);
        }
        if affiliation == Affiliation::Outcast {
            return Err(MucError::Banned);
        }
        if self.config.members_only && roles::rank(&affiliation) < roles::rank(&Affiliation::Member)
        {
            return Err(MucError::MembersOnly);
        }
        // Owners and admins may enter without the password (§7.2.6 leaves it open; we let
        // them in so a forgotten password can be reset).
        if let Some(password) = &self.config.password
            && roles::rank(&affiliation) < roles::rank(&Affiliation::Admin)
            && req.password != Some(password.as_str())
        {
            return Err(MucError::Password);
        }
        if self.by_nick(req.nick).is_some() {
            return Err(MucError::NickConflict);
        }
        if self.occupants.len() >= MAX_OCCUPANTS {
            return Err(MucError::Full);
        }
        let role = roles::default_role(&affiliation, self.config.moderated);
        let mut out = Vec::new();
        // Existing occupants to the newcomer, then the newcomer to everyone (self last).
        for i in 0..self.occupants.len() {
            let sees = self.config.whois == Whois::Anyone || role == Role::Moderator;
            let audience = if sees {
                Audience {
                    see_jids: vec![req.from.clone().into()],
                    anonymous: vec![],
                }
            } else {
                Audience {
                    see_jids: vec![],
                    anonymous: vec![req.from.clone().into()],
                }
            };
            out.extend(presence::build(
                &self.about(i),
                &Extra::default(),
                self.config.whois,
                false,
                audience,
            ));
        }
        self.occupants.push(Occupant {
            nick: req.nick.to_owned(),
            jid: req.from.clone(),
            role,
            presence,
        });
        let mut self_codes = if created {
            vec![Status::RoomHasBeenCreated]
        } else {
            vec![]
        };
        if self.archived {
            // XEP-0045 §10.2.1 / XEP-0313 §5: occupants learn on entry that the room is logged.
            self_codes.push(Status::ConfigRoomLoggingEnabled);
        }
        let extra = Extra {
            self_codes,
            ..Extra::default()
        };
        out.extend(self.presence_of(self.occupants.len() - 1, &extra, true));
        // A new room has no history, but clients wait for the (empty) subject as the end of
        // the join either way.
        out.extend(self.history_for(req.from, req.history, now));
        out.push(Fanout::one(self.subject_message(), req.from.clone().into()));
        Ok(out)
    }

    fn change_nick(
        &mut self,
        pos: usize,
        nick: &str,
        presence: Presence,
    ) -> Result<Vec<Fanout>, MucError> {
        if self.by_nick(nick).is_some() {
            return Err(MucError::NickConflict);
        }
        // §7.6: unavailable under the old nick with 303 and the new one, then available.
        let mut out = self.unavailable_of(
            pos,
            &Extra {
                codes: vec![Status::NewNick],
                new_nick: Some(nick.to_owned()),
                ..Extra::default()
            },
        );
        self.occupants[pos].nick = nick.to_owned();
        self.occupants[pos].presence = presence;
        out.extend(self.presence_of(pos, &Extra::default(), true));
        Ok(out)
    }

    /// An unavailable presence from an occupant, or its session ending (§7.14). The returned
    /// flag says whether the room should now go away (temporary and empty).
    pub fn leave(&mut self, from: &FullJid, status: Option<Presence>) -> (Vec<Fanout>, bool) {
        let Some(pos) = self.occupants.iter().position(|o| &o.jid == from) else {
            return (Vec::new(), false);
        };
        if let Some(p) = status {
            self.occupants[pos].presence = presence::sanitise(p);
        }
        let out = self.unavailable_of(pos, &Extra::default());
        self.occupants.remove(pos);
        (out, self.should_vanish())
    }

    /// Temporary rooms go away with their last occupant; so do rooms never configured.
    pub fn should_vanish(&self) -> bool {
        self.destroyed || (self.occupants.is_empty() && (!self.config.persistent || self.locked))
    }

    fn history_for(
        &self,
        to: &FullJid,
        request: Option<&HistoryRequest>,
        now: DateTime<Utc>,
    ) -> Vec<Fanout> {
        self.history
            .select(request, now)
            .into_iter()
            .map(|entry| {
                let mut stanza = entry.stanza.clone();
                let delay = Delay {
                    from: Some(self.jid.clone().into()),
                    stamp: xmpp_parsers::date::DateTime(entry.at.fixed_offset()),
                    data: None,
                };
                stanza.append_child(delay.into());
                Fanout::one(stanza, to.clone().into())
            })
            .collect()
    }

    pub(crate) fn about(&self, pos: usize) -> About<'_> {
        let o = &self.occupants[pos];
        About {
            room_jid: self.occupant_jid(&o.nick).unwrap_or_else(|| o.jid.clone()),
            real: &o.jid,
            affiliation: self.affiliation(&o.jid.to_bare()),
            role: o.role.clone(),
            presence: Some(&o.presence),
        }
    }

    fn audience_except(&self, pos: usize) -> Audience {
        Audience::of(
            self.config.whois,
            self.occupants
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != pos)
                .map(|(_, o)| (&o.jid, &o.role)),
        )
    }

    /// The occupant's presence to everyone (itself included when `to_self`).
    pub(crate) fn presence_of(&self, pos: usize, extra: &Extra, to_self: bool) -> Vec<Fanout> {
        presence::build(
            &self.about(pos),
            extra,
            self.config.whois,
            to_self,
            self.audience_except(pos),
        )
    }

    /// The occupant's unavailable presence to everyone, itself included.
    pub(crate) fn unavailable_of(&self, pos: usize, extra: &Extra) -> Vec<Fanout> {
        let mut about = self.about(pos);
        about.presence = None;
        about.role = Role::None;
        presence::build(
            &about,
            extra,
            self.config.whois,
            true,
            self.audience_except(pos),
        )
    }
}
