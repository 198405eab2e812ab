//! XEP-0313 archives of MUC rooms: each groupchat message with a body is kept under the room's
//! bare JID (the user archive's writer and storage), and occupants query it at the room JID.

use std::sync::Arc;

use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::Message;
use xmpp_parsers::muc::user::Affiliation;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xmppd_modules::muc::Fanout;
use xmppd_modules::stanza_error;

use xmppd_config::Module;
use xmppd_storage::Archive;

use super::Service;
use crate::im::{mam, mam_query, route};
use crate::server::Server;

/// Queues the room's copy of a groupchat message (already stamped with the room's stanza id
/// `id` by the room) for its archive; subject changes and other body-less messages are not kept.
pub async fn archive(server: &Server, room: &BareJid, id: String, out: &[Fanout]) {
    let Some(fanout) = out.first() else {
        return;
    };
    let Ok(message) = Message::try_from(fanout.stanza.clone()) else {
        return;
    };
    let Some(with) = message.from.clone() else {
        return;
    };
    if message.bodies.is_empty() {
        return;
    }
    mam::enqueue(server, room, id, &with, &message).await;
}

/// A room that went away takes its archive with it: a later room of the same name (perhaps
/// someone else's) must not read what was said in this one.
pub async fn forget(server: &Server, muc: &Service, room: &str) {
    if !server.enabled(Module::Mam) {
        return;
    }
    let Ok(jid) = BareJid::new(&format!("{room}@{}", muc.config.domain)) else {
        return;
    };
    // Whatever the writer still holds for the room goes first, so nothing lands afterwards.
    mam::flush(server).await;
    if let Err(err) = server.storage.delete_archive(jid.as_str()).await {
        tracing::warn!(%err, "deleting a room archive failed");
    }
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

/// A MAM query sent to the room JID. Runs in a task of its own, so a slow reader delays no
/// one else in the room.
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
    // The same bounds as for user archives: per requesting account and server-wide.
    let running = mam_query::Running::start(server, from.to_bare());
    let permit = server.mam.queries.clone().try_acquire_owned();
    let (Some(running), Ok(permit)) = (running, permit) else {
        return route(
            server,
            error(&iq, ErrorType::Wait, DefinedCondition::ResourceConstraint),
        )
        .await;
    };
    let server = server.clone();
    let from = from.clone();
    tokio::spawn(async move {
        let _running = (running, permit);
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
    let (results, fin) = mam_query::results(server, room, to, payload).await?;
    for out in results {
        route(server, out).await;
    }
    Ok(fin)
}
