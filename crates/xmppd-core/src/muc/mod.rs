//! The XEP-0045 multi-user chat component on its own domain. It owns the rooms (each behind
//! its own lock; the rules are in `xmppd_modules::muc`) and carries out what they decide:
//! fan-outs through the router, persistent rooms to storage.

mod fanout;
mod iq;
mod mam;
mod persist;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use jid::{FullJid, Jid};
use minidom::Element;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::muc::Muc;
use xmpp_parsers::muc::user::MucUser;
use xmpp_parsers::ns;
use xmpp_parsers::presence::{Presence, Type as PresenceType};
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xmppd_config::{Module, RoomCreation};
use xmppd_modules::muc::config::RoomConfig;
use xmppd_modules::muc::room::{Enter, Room};
use xmppd_modules::muc::voice::VoiceForm;
use xmppd_modules::muc::{Fanout, MucError};
use xmppd_modules::stanza_error;

use crate::im::route;
use crate::server::Server;

pub use fanout::Template;

/// Most rooms one service holds in memory; creating more is refused.
const MAX_ROOMS: usize = 10_000;

/// One MUC service (the `[muc]` config section).
#[derive(Debug)]
pub struct Service {
    pub config: xmppd_config::Muc,
    rooms: Mutex<HashMap<String, Arc<Mutex<Room>>>>,
    /// Persistent rooms are read from storage once, at first use.
    loaded: tokio::sync::OnceCell<()>,
    /// Serialises room saves, so a later snapshot never loses to an earlier one.
    save_lock: tokio::sync::Mutex<()>,
}

impl Service {
    pub fn new(config: xmppd_config::Muc) -> Self {
        Self {
            config,
            rooms: Mutex::new(HashMap::new()),
            loaded: tokio::sync::OnceCell::new(),
            save_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Is `domain` this service's?
    pub fn serves(&self, domain: &str) -> bool {
        self.config.domain.eq_ignore_ascii_case(domain)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Mutex<Room>>>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn room(&self, name: &str) -> Option<Arc<Mutex<Room>>> {
        self.map().get(name).cloned()
    }

    /// Runs `f` on the room, if it exists.
    fn with_room<R>(&self, name: &str, f: impl FnOnce(&mut Room) -> R) -> Option<R> {
        let room = self.room(name)?;
        let mut room = room.lock().unwrap_or_else(|e| e.into_inner());
        Some(f(&mut room))
    }

    /// Every room, for disco#items.
    fn snapshot(&self) -> Vec<Arc<Mutex<Room>>> {
        self.map().values().cloned().collect()
    }

    /// Removes the room if it should go away now (checked under both locks, so a join
    /// cannot slip into a room being removed).
    fn drop_if_vanished(&self, name: &str) -> bool {
        let mut map = self.map();
        let vanish = map
            .get(name)
            .is_some_and(|r| r.lock().unwrap_or_else(|e| e.into_inner()).should_vanish());
        if vanish {
            map.remove(name);
        }
        vanish
    }
}

/// A stanza addressed to the MUC service or one of its rooms.
pub async fn handle(server: &Arc<Server>, muc: &Service, stanza: Element) {
    persist::ensure_loaded(server, muc).await;
    let to = stanza.attr("to").and_then(|t| Jid::new(t).ok());
    let from = stanza.attr("from").and_then(|t| Jid::new(t).ok());
    let (Some(to), Some(from)) = (to, from) else {
        return;
    };
    let Some(room) = to.node().map(|n| n.as_str().to_owned()) else {
        if stanza.is("iq", ns::DEFAULT_NS) {
            iq::to_service(server, muc, stanza).await;
        }
        return;
    };
    if stanza.is("iq", ns::DEFAULT_NS) && matches!(stanza.attr("type"), Some("result" | "error")) {
        // Answers to requests the room passed on; from an account (a vCard) too.
        if let Some(nick) = to.resource() {
            iq::answer_to_occupant(server, muc, &room, nick.as_str(), &from, stanza).await;
        }
        return;
    }
    let Ok(from) = from.try_into_full() else {
        // Occupants are sessions: a stanza from a bare JID has no one to answer.
        return;
    };
    if stanza.is("presence", ns::DEFAULT_NS) {
        presence(server, muc, &room, &to, &from, stanza).await;
    } else if stanza.is("message", ns::DEFAULT_NS) {
        message(server, muc, &room, &to, &from, stanza).await;
    } else if stanza.is("iq", ns::DEFAULT_NS) {
        iq::to_room(server, muc, &room, &to, &from, stanza).await;
    }
}

/// Sends the stanza error for `stanza` back to its sender.
async fn refuse(server: &Arc<Server>, stanza: &Element, error: &MucError) {
    let (type_, condition) = error.condition();
    refuse_with(server, stanza, type_, condition).await;
}

async fn refuse_with(
    server: &Arc<Server>,
    stanza: &Element,
    type_: ErrorType,
    condition: DefinedCondition,
) {
    if stanza.attr("type") == Some("error") {
        return;
    }
    if let Some(reply) = stanza_error::bounce(stanza, stanza_error::make(type_, condition, None)) {
        route(server, reply).await;
    }
}

async fn presence(
    server: &Arc<Server>,
    muc: &Service,
    room: &str,
    to: &Jid,
    from: &FullJid,
    stanza: Element,
) {
    let Ok(presence) = Presence::try_from(stanza.clone()) else {
        return refuse_with(
            server,
            &stanza,
            ErrorType::Modify,
            DefinedCondition::BadRequest,
        )
        .await;
    };
    match presence.type_ {
        PresenceType::None => {}
        PresenceType::Unavailable | PresenceType::Error => {
            let left = muc.with_room(room, |r| r.leave(from, Some(presence)));
            if let Some((out, _)) = left {
                fanout::deliver(server, out).await;
                if muc.drop_if_vanished(room) {
                    persist::save(server, muc, room).await;
                    mam::forget(server, muc, room).await;
                }
            }
            return;
        }
        _ => return,
    }
    let Ok(to) = to.clone().try_into_full() else {
        // XEP-0045 §7.2.1: entering needs a nickname.
        return refuse_with(
            server,
            &stanza,
            ErrorType::Modify,
            DefinedCondition::JidMalformed,
        )
        .await;
    };
    let request = presence
        .payloads
        .iter()
        .find_map(|p| Muc::try_from(p.clone()).ok());
    let entered = enter(server, muc, room, &to, from, presence, request.as_ref());
    match entered {
        Ok(out) => fanout::deliver(server, out).await,
        Err(e) => {
            // §7.2: the error presence carries the MUC element, so clients match it to the join.
            let (type_, condition) = e.condition();
            if let Some(mut reply) =
                stanza_error::bounce(&stanza, stanza_error::make(type_, condition, None))
            {
                reply.append_child(Element::builder("x", ns::MUC).build());
                route(server, reply).await;
            }
        }
    }
}

/// Enters (creating it if needed) a room; all under the map lock, so a room cannot vanish
/// between its look-up and the entry.
fn enter(
    server: &Server,
    muc: &Service,
    room: &str,
    to: &FullJid,
    from: &FullJid,
    presence: Presence,
    request: Option<&Muc>,
) -> Result<Vec<Fanout>, MucError> {
    let mut map = muc.map();
    let (arc, created) = match map.get(room) {
        Some(r) => (r.clone(), false),
        None => {
            may_create(server, muc, from, map.len())?;
            let config = RoomConfig::new(muc.config.default_history.min(muc.config.max_history));
            let mut new = Room::create(to.to_bare(), from.to_bare(), config);
            new.archived = server.enabled(Module::Mam);
            new.locked = muc.config.lock_new_rooms;
            let new = Arc::new(Mutex::new(new));
            map.insert(room.to_owned(), new.clone());
            (new, true)
        }
    };
    let mut r = arc.lock().unwrap_or_else(|e| e.into_inner());
    let enter = Enter {
        from,
        nick: to.resource().as_str(),
        presence,
        password: request.and_then(|m| m.password.as_deref()),
        history: request.and_then(|m| m.history.as_ref()),
    };
    let result = r.enter(enter, created, Utc::now());
    if result.is_err() && created {
        drop(r);
        map.remove(room);
    }
    result
}

fn may_create(
    server: &Server,
    muc: &Service,
    from: &FullJid,
    rooms: usize,
) -> Result<(), MucError> {
    if rooms >= MAX_ROOMS {
        return Err(MucError::NotAllowed(
            "the service holds as many rooms as it may",
        ));
    }
    let allowed = match muc.config.room_creation {
        RoomCreation::Anyone => true,
        RoomCreation::Local => server.serves(from.domain().as_str()),
        RoomCreation::Admins => server.is_admin(&Jid::from(from.clone())),
    };
    if allowed {
        Ok(())
    } else {
        Err(MucError::NotAllowed("you may not create rooms here"))
    }
}

async fn message(
    server: &Arc<Server>,
    muc: &Service,
    room: &str,
    to: &Jid,
    from: &FullJid,
    stanza: Element,
) {
    let Ok(message) = Message::try_from(stanza.clone()) else {
        return refuse_with(
            server,
            &stanza,
            ErrorType::Modify,
            DefinedCondition::BadRequest,
        )
        .await;
    };
    if message.type_ == MessageType::Error {
        return;
    }
    if to.resource().is_none() {
        match VoiceForm::find(&message) {
            Err(e) => return refuse(server, &stanza, &e).await,
            Ok(Some(form)) => return voice(server, muc, room, from, &stanza, form).await,
            Ok(None) => {}
        }
    }
    let invite = message
        .payloads
        .iter()
        .find_map(|p| MucUser::try_from(p.clone()).ok())
        .filter(|x| x.invite.is_some() || x.decline.is_some());
    let result: Option<Result<(Vec<Fanout>, bool), MucError>> = match (to.resource(), invite) {
        (Some(nick), _) => {
            let nick = nick.as_str().to_owned();
            muc.with_room(room, |r| {
                r.private(from, &nick, message).map(|f| (vec![f], false))
            })
        }
        (None, Some(x)) => muc.with_room(room, |r| r.invite(from, x).map(|f| (f, true))),
        (None, None) if message.type_ == MessageType::Groupchat => {
            let subject = !message.subjects.is_empty() && message.bodies.is_empty();
            let id = crate::im::mam::new_id();
            let mut archived = None;
            let out = muc.with_room(room, |r| {
                archived = r.archived.then(|| r.jid.clone());
                let id = archived.as_ref().map(|_| id.as_str());
                r.groupchat_with_id(from, message, Utc::now(), id)
                    .map(|f| (f, subject))
            });
            if let (Some(Ok((out, _))), Some(jid)) = (&out, archived) {
                mam::archive(server, &jid, id, out).await;
            }
            out
        }
        (None, None) => Some(Err(MucError::BadRequest(
            "messages to a room are groupchat",
        ))),
    };
    match result {
        None => {
            refuse_with(
                server,
                &stanza,
                ErrorType::Cancel,
                DefinedCondition::ItemNotFound,
            )
            .await
        }
        Some(Err(e)) => refuse(server, &stanza, &e).await,
        Some(Ok((out, changed))) => {
            fanout::deliver(server, out).await;
            if changed {
                persist::save(server, muc, room).await;
            }
        }
    }
}

/// A voice request to the room or a moderator's answer to one (§7.13, §8.6). Roles last as
/// long as the session, so nothing is saved.
async fn voice(
    server: &Arc<Server>,
    muc: &Service,
    room: &str,
    from: &FullJid,
    stanza: &Element,
    form: VoiceForm,
) {
    let result = muc.with_room(room, |r| match form {
        VoiceForm::Request => r.request_voice(from),
        VoiceForm::Decision { nick, allow } => r.decide_voice(from, &nick, allow),
    });
    match result {
        None => {
            refuse_with(
                server,
                stanza,
                ErrorType::Cancel,
                DefinedCondition::ItemNotFound,
            )
            .await
        }
        Some(Err(e)) => refuse(server, stanza, &e).await,
        Some(Ok(out)) => fanout::deliver(server, out).await,
    }
}

/// A session ended: it leaves every room it was in (XEP-0045 §7.14).
pub async fn session_ended(server: &Arc<Server>, jid: &FullJid) {
    let Some(muc) = server.muc.as_ref() else {
        return;
    };
    let rooms: Vec<(String, Arc<Mutex<Room>>)> = muc
        .map()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (name, room) in rooms {
        let out = {
            let mut r = room.lock().unwrap_or_else(|e| e.into_inner());
            if r.occupant(jid).is_none() {
                continue;
            }
            r.leave(jid, None).0
        };
        fanout::deliver(server, out).await;
        if muc.drop_if_vanished(&name) {
            persist::save(server, muc, &name).await;
            mam::forget(server, muc, &name).await;
        }
    }
}
