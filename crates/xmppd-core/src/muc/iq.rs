//! IQs to the MUC service and its rooms: disco (XEP-0030 / XEP-0045 §6), `muc#admin` (§8-9),
//! `muc#owner` (§10), room vCards (avatars), XEP-0410 self-ping to an occupant JID, and IQs
//! between occupants.

use std::sync::Arc;

use jid::{FullJid, Jid};
use minidom::Element;
use xmpp_parsers::data_forms::{DataForm, DataFormType};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xmppd_modules::muc::admin::{self, AdminItem};
use xmppd_modules::muc::destroy::Destroy;
use xmppd_modules::muc::{Fanout, MucError, NS_ADMIN, NS_OWNER, disco};
use xmppd_modules::{stanza_error, xep0054_vcard};

use super::{Service, fanout, persist};
use crate::im::route;
use crate::server::Server;

type Answer = Result<Option<Element>, (ErrorType, DefinedCondition)>;

fn from_error(e: &MucError) -> (ErrorType, DefinedCondition) {
    e.condition()
}

async fn reply(server: &Arc<Server>, iq: &Iq, answer: Answer) {
    let reply = match answer {
        Ok(payload) => xmppd_modules::iq::result(iq, payload),
        Err((t, c)) => stanza_error::iq_error(iq, stanza_error::make(t, c, None)),
    };
    if let Some(reply) = reply {
        route(server, reply.into()).await;
    }
}

fn request(stanza: Element) -> Option<(Iq, Element, bool)> {
    let iq = Iq::try_from(stanza).ok()?;
    let (payload, is_set) = match &iq {
        Iq::Get { payload, .. } => (payload.clone(), false),
        Iq::Set { payload, .. } => (payload.clone(), true),
        _ => return None,
    };
    Some((iq, payload, is_set))
}

/// An IQ to the service domain: disco#info and the public rooms in disco#items.
pub async fn to_service(server: &Arc<Server>, muc: &Service, stanza: Element) {
    let Some((iq, payload, is_set)) = request(stanza) else {
        return;
    };
    let answer: Answer = if is_set {
        Err((ErrorType::Cancel, DefinedCondition::ServiceUnavailable))
    } else if payload.is("query", ns::DISCO_INFO) {
        Ok(Some(disco::service_info(&muc.config.name).into()))
    } else if payload.is("query", ns::DISCO_ITEMS) {
        Ok(Some(public_rooms(muc).into()))
    } else if payload.is("ping", ns::PING) {
        Ok(None)
    } else {
        Err((ErrorType::Cancel, DefinedCondition::ServiceUnavailable))
    };
    reply(server, &iq, answer).await;
}

/// A request to `room/nick`: XEP-0410 self-ping is answered here, anything else goes on to
/// that occupant (`muc::private_iq`).
async fn to_occupant(
    server: &Arc<Server>,
    muc: &Service,
    room: &str,
    nick: &str,
    from: &FullJid,
    stanza: Element,
) {
    let Some((iq, payload, is_set)) = request(stanza) else {
        return;
    };
    let self_ping = !is_set && payload.is("ping", ns::PING);
    let forwarded = muc.with_room(room, |r| match r.occupant(from) {
        // XEP-0410: an occupant pinging its own occupant JID learns it is still joined.
        Some(o) if self_ping && o.nick == nick => Ok(None),
        _ => r.forward_iq_request(from, nick, iq.clone()).map(Some),
    });
    match forwarded {
        Some(Ok(Some(out))) => fanout::deliver(server, vec![out]).await,
        Some(Ok(None)) => reply(server, &iq, Ok(None)).await,
        Some(Err(e)) => reply(server, &iq, Err(from_error(&e))).await,
        None => {
            let gone = Err((ErrorType::Cancel, DefinedCondition::ItemNotFound));
            reply(server, &iq, gone).await;
        }
    }
}

/// An answer (`result` or `error`) to `room/nick` from an occupant's session or account, to a
/// request the room forwarded: on to that occupant.
pub async fn answer_to_occupant(
    server: &Arc<Server>,
    muc: &Service,
    room: &str,
    nick: &str,
    from: &Jid,
    stanza: Element,
) {
    let Ok(iq) = Iq::try_from(stanza) else {
        return;
    };
    if let Some(Some(out)) = muc.with_room(room, |r| r.forward_iq_answer(from, nick, iq)) {
        fanout::deliver(server, vec![out]).await;
    }
}

fn public_rooms(muc: &Service) -> xmpp_parsers::disco::DiscoItemsResult {
    let rooms = muc.snapshot();
    let guards: Vec<_> = rooms
        .iter()
        .map(|r| r.lock().unwrap_or_else(|e| e.into_inner()))
        .collect();
    disco::service_items(guards.iter().map(|g| &**g))
}

/// An IQ request to a room or to an occupant.
pub async fn to_room(
    server: &Arc<Server>,
    muc: &Service,
    room: &str,
    to: &Jid,
    from: &FullJid,
    stanza: Element,
) {
    if let Some(nick) = to.resource() {
        return to_occupant(server, muc, room, nick.as_str(), from, stanza).await;
    }
    let Some((iq, payload, is_set)) = request(stanza) else {
        return;
    };
    if muc.room(room).is_none() {
        return reply(
            server,
            &iq,
            Err((ErrorType::Cancel, DefinedCondition::ItemNotFound)),
        )
        .await;
    }
    if is_set && payload.is("query", disco::NS_MAM) {
        return super::mam::query(server, muc, room, from, iq, payload).await;
    }
    let max_history = muc.config.max_history;
    let bare = from.to_bare();
    let mut out: Vec<Fanout> = Vec::new();
    let mut changed = false;
    let mut destroyed = false;
    let answer: Answer = muc
        .with_room(room, |r| {
            if payload.is("query", ns::DISCO_INFO) && !is_set {
                return Ok(Some(disco::room_info(r, &r.jid.clone()).into()));
            }
            if payload.is("query", ns::DISCO_ITEMS) && !is_set {
                // Occupants are not listed: their nicks are for those inside.
                return Ok(Some(
                    xmpp_parsers::disco::DiscoItemsResult {
                        node: None,
                        items: vec![],
                        rsm: None,
                    }
                    .into(),
                ));
            }
            if payload.is("vCard", ns::VCARD) {
                if !is_set {
                    return Ok(Some(xep0054_vcard::answer_get(r.vcard.clone())));
                }
                if String::from(&payload).len() > xep0054_vcard::DEFAULT_MAX_BYTES {
                    return Err((ErrorType::Modify, DefinedCondition::NotAcceptable));
                }
                r.set_vcard(&bare, payload.clone())
                    .map_err(|e| from_error(&e))?;
                changed = true;
                return Ok(None);
            }
            if payload.is("query", NS_OWNER) {
                if !is_set {
                    let form = r
                        .config_form(&bare, max_history)
                        .map_err(|e| from_error(&e))?;
                    return Ok(Some(
                        Element::builder("query", NS_OWNER)
                            .append(Element::from(form))
                            .build(),
                    ));
                }
                if let Some(request) = Destroy::parse(&payload).map_err(|e| from_error(&e))? {
                    out = r.destroy(&bare, &request).map_err(|e| from_error(&e))?;
                    destroyed = true;
                    return Ok(None);
                }
                let Some(form) = payload
                    .get_child("x", ns::DATA_FORMS)
                    .and_then(|x| DataForm::try_from(x.clone()).ok())
                else {
                    return Err((ErrorType::Modify, DefinedCondition::BadRequest));
                };
                if form.type_ == DataFormType::Cancel && r.locked {
                    // §10.1.3: cancelling a new room's first configuration destroys it
                    // (a later cancel changes nothing: `configure` ignores the form).
                    out = r
                        .destroy(&bare, &Destroy::default())
                        .map_err(|e| from_error(&e))?;
                    destroyed = true;
                    return Ok(None);
                }
                out = r
                    .configure(&bare, &form, max_history)
                    .map_err(|e| from_error(&e))?;
                changed = true;
                return Ok(None);
            }
            if payload.is("query", NS_ADMIN) {
                let items = admin::parse(&payload, is_set).map_err(|e| from_error(&e))?;
                if !is_set {
                    let mut query = Element::builder("query", NS_ADMIN).build();
                    for item in &items {
                        for el in r.list(from, item).map_err(|e| from_error(&e))? {
                            query.append_child(el);
                        }
                    }
                    return Ok(Some(query));
                }
                // All or nothing: a refused item leaves the room as it was.
                let before = r.clone();
                for item in items {
                    let result = match item {
                        AdminItem::Role { nick, role, reason } => {
                            r.set_role(from, &nick, role, reason)
                        }
                        AdminItem::Affiliation {
                            jid,
                            affiliation,
                            reason,
                        } => {
                            changed = true;
                            r.set_affiliation(&bare, &jid, affiliation, reason)
                        }
                        _ => Err(MucError::BadRequest("lists are asked for with get")),
                    };
                    match result {
                        Ok(more) => out.extend(more),
                        Err(e) => {
                            *r = before;
                            out.clear();
                            changed = false;
                            return Err(from_error(&e));
                        }
                    }
                }
                return Ok(None);
            }
            Err((ErrorType::Cancel, DefinedCondition::ServiceUnavailable))
        })
        .unwrap_or(Err((ErrorType::Cancel, DefinedCondition::ItemNotFound)));
    fanout::deliver(server, out).await;
    if destroyed && muc.drop_if_vanished(room) {
        // Gone from storage and its archive gone too, before the owner hears it is done.
        persist::save(server, muc, room).await;
        super::mam::forget(server, muc, room).await;
    }
    reply(server, &iq, answer).await;
    if changed {
        persist::save(server, muc, room).await;
    }
}
