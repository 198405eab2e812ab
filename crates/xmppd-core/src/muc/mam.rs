//! XEP-0313 archives of MUC rooms: each groupchat message with a body is kept under the room's
//! bare JID (the user archive's writer and storage), and occupants query it at the room JID.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::Message;
use xmpp_parsers::muc::user::Affiliation;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xmppd_modules::muc::Fanout;
use xmppd_modules::{stanza_error, xep0313_mam as rules};

use super::Service;
use crate::im::{mam, mam_query, route};
use crate::server::Server;

/// Stamps the room's stanza id on the groupchat message occupants are about to receive and
/// queues that copy for the room's archive.
pub async fn archive(server: &Server, room: &BareJid, out: &mut [Fanout]) {
    let Some(fanout) = out.first_mut() else {
        return;
    };
    let Ok(mut message) = Message::try_from(fanout.stanza.clone()) else {
        return;
    };
    let Some(with) = message.from.clone() else {
        return;
    };
    let id = mam::new_id();
    rules::stamp_stanza_id(&mut message, room, &id);
    mam::enqueue(server, room, id, &with, &message).await;
    fanout.stanza = message.into();
}

/// May `from` read the room's archive? Its occupants may, and so may those affiliated with it
/// (members of a members-only room read it without being inside).
fn may_read(muc: &Service, room: &str, from: &FullJid) -> Option<bool> {
    muc.with_room(room, |r| {
        r.occupant(from).is_some()
            || matches!(
                r.affiliation(&from.to_bare()),
                Affiliation::Member | Affiliation::Admin | Affiliation::Owner
            )
    })
}

fn error(iq: &Iq, type_: ErrorType, condition: DefinedCondition) -> Element {
    stanza_error::iq_error(iq, stanza_error::make(type_, condition, None))
        .unwrap_or_else(|| iq.clone())
        .into()
}

/// A MAM query sent to the room JID. Runs in a task of its own, bounded by the server-wide
/// query limit the user archives share.
pub async fn query(
    server: &Arc<Server>,
    muc: &Service,
    room: &str,
    from: &FullJid,
    iq: Iq,
    payload: Element,
) {
    let Some(jid) = muc.with_room(room, |r| r.archived.then(|| r.jid.clone())) else {
        return route(
            server,
            error(&iq, ErrorType::Cancel, DefinedCondition::ItemNotFound),
        )
        .await;
    };
    let Some(jid) = jid else {
        return route(
            server,
            error(&iq, ErrorType::Cancel, DefinedCondition::ServiceUnavailable),
        )
        .await;
    };
    if may_read(muc, room, from) != Some(true) {
        return route(
            server,
            error(&iq, ErrorType::Auth, DefinedCondition::Forbidden),
        )
        .await;
    }
    let Ok(permit) = server.mam.queries.clone().try_acquire_owned() else {
        return route(
            server,
            error(&iq, ErrorType::Wait, DefinedCondition::ResourceConstraint),
        )
        .await;
    };
    let server = server.clone();
    let from = from.clone();
    tokio::spawn(async move {
        let _permit = permit;
        let answer = run(&server, &jid, &from, payload).await;
        let reply: Element = match answer {
            Ok(fin) => xmppd_modules::iq::result(&iq, Some(fin))
                .unwrap_or_else(|| iq.clone())
                .into(),
            Err(Some(e)) => stanza_error::iq_error(&iq, stanza_error::from_error(&e))
                .unwrap_or_else(|| iq.clone())
                .into(),
            Err(None) => error(&iq, ErrorType::Wait, DefinedCondition::InternalServerError),
        };
        route(&server, reply).await;
    });
}

async fn run(
    server: &Arc<Server>,
    room: &BareJid,
    to: &FullJid,
    payload: Element,
) -> Result<Element, Option<xmppd_modules::Error>> {
    let (query, page) = mam_query::read(server, room.as_str(), payload).await?;
    let first = page.items.first().map(|i| i.stanza_id.clone());
    let last = page.items.last().map(|i| i.stanza_id.clone());
    let mut items = page.items;
    if query.flip {
        items.reverse();
    }
    for item in items {
        let Some(message) = std::str::from_utf8(&item.stanza)
            .ok()
            .and_then(|t| t.parse::<Element>().ok())
            .and_then(|e| Message::try_from(e).ok())
        else {
            continue;
        };
        let out = rules::result_message(
            room,
            to,
            query.queryid.as_deref(),
            item.stanza_id,
            DateTime::<Utc>::from(item.stored_at),
            message,
        );
        route(server, out.into()).await;
    }
    Ok(rules::fin(page.complete, first, last).into())
}
