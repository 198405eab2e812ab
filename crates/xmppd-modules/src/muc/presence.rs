//! XEP-0045 §7.2.3-§7.2.6 and §7.14: occupant presence as each kind of recipient sees it. The
//! real JID goes only to those allowed to see it, so a presence fans out as at most three
//! payloads: the occupant's own copy (status 110), one with the JID and one without.

use jid::FullJid;
use xmpp_parsers::muc::user::{Actor, Affiliation, Item, MucUser, Reason, Role, Status};
use xmpp_parsers::presence::{Presence, Type as PresenceType};

use super::Fanout;
use super::config::Whois;

/// The occupant a presence is about.
#[derive(Debug, Clone)]
pub struct About<'a> {
    pub room_jid: FullJid,
    pub real: &'a FullJid,
    pub affiliation: Affiliation,
    pub role: Role,
    /// The occupant's own presence (show, status, payloads); `None` for unavailable.
    pub presence: Option<&'a Presence>,
}

/// What else the presence says.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// Codes for everyone (e.g. 307 kicked, 301 banned, 303 new nick).
    pub codes: Vec<Status>,
    /// Codes only the occupant itself gets (e.g. 201 room created, 210 nick assigned).
    pub self_codes: Vec<Status>,
    /// For 303: the new nickname.
    pub new_nick: Option<String>,
    pub reason: Option<String>,
    /// Nick of the moderator who acted, for kicks and bans.
    pub actor: Option<String>,
}

/// Recipients of a presence: who sees real JIDs and who does not.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub see_jids: Vec<jid::Jid>,
    pub anonymous: Vec<jid::Jid>,
}

impl Audience {
    /// Sorts `others` by whether they may see real JIDs under `whois`.
    pub fn of<'a>(whois: Whois, others: impl Iterator<Item = (&'a FullJid, &'a Role)>) -> Self {
        let mut audience = Self::default();
        for (jid, role) in others {
            if whois == Whois::Anyone || *role == Role::Moderator {
                audience.see_jids.push(jid.clone().into());
            } else {
                audience.anonymous.push(jid.clone().into());
            }
        }
        audience
    }
}

/// The presence about `about` for the occupant itself (`to_self`) and for `audience`.
pub fn build(
    about: &About<'_>,
    extra: &Extra,
    whois: Whois,
    to_self: bool,
    audience: Audience,
) -> Vec<Fanout> {
    let mut out = Vec::new();
    let stanza = |with_jid: bool, own: bool| {
        let mut item = Item::new(about.affiliation.clone(), about.role.clone());
        if with_jid {
            item.jid = Some(about.real.clone());
        }
        item.nick = extra.new_nick.clone();
        item.reason = extra.reason.clone().map(Reason);
        if let Some(nick) = &extra.actor {
            item.actor = Some(actor(nick));
        }
        let mut status = extra.codes.clone();
        if own {
            status.extend(extra.self_codes.iter().cloned());
            if whois == Whois::Anyone {
                status.push(Status::NonAnonymousRoom);
            }
            status.push(Status::SelfPresence);
        }
        let mut presence = match about.presence {
            Some(p) => {
                let mut p = p.clone();
                p.type_ = PresenceType::None;
                p
            }
            None => Presence::new(PresenceType::Unavailable),
        };
        presence.from = Some(about.room_jid.clone().into());
        presence.to = None;
        presence.id = None;
        presence.add_payload(MucUser::new().with_statuses(status).with_items(vec![item]));
        explicit_defaults(minidom::Element::from(presence))
    };
    if to_self {
        out.push(Fanout::one(stanza(true, true), about.real.clone().into()));
    }
    if !audience.see_jids.is_empty() {
        out.push(Fanout {
            stanza: stanza(true, false),
            to: audience.see_jids,
        });
    }
    if !audience.anonymous.is_empty() {
        out.push(Fanout {
            stanza: stanza(false, false),
            to: audience.anonymous,
        });
    }
    out
}

fn actor(nick: &str) -> Actor {
    // Actor's fields are private in xmpp-parsers: it is made from its XML form.
    let el = minidom::Element::builder("actor", xmpp_parsers::ns::MUC_USER)
        .attr(rxml::xml_ncname!("nick").to_owned(), nick)
        .build();
    Actor::try_from(el).unwrap_or_else(|_| unreachable!("a muc#user actor with a nick parses"))
}

/// xmpp-parsers leaves out `role='none'` and `affiliation='none'` as defaults, but XEP-0045
/// requires both attributes on every item (and its own parser insists on them).
fn explicit_defaults(mut presence: minidom::Element) -> minidom::Element {
    let x = presence
        .children_mut()
        .find(|c| c.is("x", xmpp_parsers::ns::MUC_USER));
    if let Some(item) = x.and_then(|x| x.children_mut().find(|c| c.name() == "item")) {
        for name in ["role", "affiliation"] {
            if item.attr(name).is_none() {
                let name = rxml::NcName::try_from(name).unwrap_or_else(|_| unreachable!());
                item.attrs_mut()
                    .insert(rxml::Namespace::NONE, name, "none".to_owned());
            }
        }
    }
    presence
}

/// Removes what a client must not inject into the room's copy of its presence: its own MUC
/// elements.
pub fn sanitise(mut presence: Presence) -> Presence {
    presence
        .payloads
        .retain(|p| !(p.is("x", xmpp_parsers::ns::MUC) || p.is("x", xmpp_parsers::ns::MUC_USER)));
    presence.from = None;
    presence.to = None;
    presence
}
