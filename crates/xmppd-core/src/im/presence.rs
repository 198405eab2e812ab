//! Presence (RFC 6121 §3 subscriptions, §4 exchanging presence): broadcasts, probes, directed
//! presence, and the subscription state machine carried out against storage.

use super::roster::{self, from_bare};
use super::{Session, route, send_element};
use crate::router::SessionHandle;
use crate::server::Server;
use jid::{BareJid, Jid};
use minidom::Element;
use std::sync::Arc;
use xmpp_parsers::presence::{Presence, Type as PresenceType};
use xmppd_modules::rfc6121::presence::{self as rules, DirectedChange, ResourceSnapshot};
use xmppd_modules::rfc6121::roster as roster_rules;
use xmppd_modules::rfc6121::subscription::{self, ContactState, Kind, PresenceToContact};
use xmppd_storage::{LastActivity, LastLogout, Rosters, User};

/// A presence the client sent.
pub async fn from_client(
    server: &Arc<Server>,
    session: &Session,
    stanza: Element,
    to: Option<Jid>,
) {
    let Ok(presence) = Presence::try_from(stanza.clone()) else {
        super::deliver::bounce(
            server,
            &stanza,
            xmpp_parsers::stanza_error::ErrorType::Modify,
            xmpp_parsers::stanza_error::DefinedCondition::BadRequest,
        )
        .await;
        return;
    };
    match (to, &presence.type_) {
        (None, PresenceType::None) => available(server, session, presence).await,
        (None, PresenceType::Unavailable) => unavailable(server, session, Some(presence)).await,
        (Some(to), type_) => {
            if let Some(kind) = Kind::from_presence(type_) {
                outbound_subscription(server, session, to.to_bare(), kind).await;
            } else if matches!(type_, PresenceType::None | PresenceType::Unavailable) {
                directed(server, session, stanza, &to, type_).await;
            } else if matches!(type_, PresenceType::Error) {
                route(server, stanza).await;
            }
            // Clients do not probe (RFC 6121 §4.3): ignore.
        }
        _ => {}
    }
}

fn snapshots(server: &Server, bare: &BareJid) -> Vec<ResourceSnapshot> {
    server
        .router
        .sessions(bare)
        .iter()
        .map(|s| s.snapshot())
        .collect()
}

async fn contact_states(server: &Server, user: User<'_>) -> Vec<(BareJid, ContactState)> {
    match roster::contacts(server, user).await {
        Ok(entries) => entries.into_iter().map(|e| (e.jid, e.contact)).collect(),
        Err(err) => {
            tracing::warn!(%err, "loading a roster for presence failed");
            Vec::new()
        }
    }
}

fn addressed(presence: &Presence, from: &Jid, to: &Jid) -> Element {
    let mut p = presence.clone();
    p.from = Some(from.clone());
    p.to = Some(to.clone());
    p.into()
}

async fn available(server: &Arc<Server>, session: &Session, presence: Presence) {
    let presence = super::pep::on_available(server, session, presence).await;
    let bare = session.bare();
    let Some(user) = server.local_user(&bare) else {
        return;
    };
    let contacts = contact_states(server, user).await;
    let sessions = snapshots(server, &bare);
    let plan = rules::on_available(
        session.jid(),
        &sessions,
        contacts.iter().map(|(j, c)| (j, *c)),
    );
    let initial = session.handle.presence().last.is_none();
    let from = Jid::from(session.jid().clone());
    let mut own = presence.clone();
    own.from = Some(from.clone());
    own.to = None;
    session
        .handle
        .update_presence(|p| p.last = Some(own.clone()));
    for contact in &plan.contacts {
        route(server, addressed(&presence, &from, contact)).await;
    }
    for resource in &plan.own_resources {
        if let Some(target) = server.router.session(resource) {
            send_element(
                &target,
                &addressed(&presence, &from, &Jid::from(resource.clone())),
            );
        }
    }
    for contact in &plan.probes {
        route(server, from_bare(&bare, contact, PresenceType::Probe)).await;
    }
    for other in &plan.others_to_sender {
        if let Some(last) = server.router.session(other).and_then(|s| s.presence().last) {
            send_element(
                &session.handle,
                &addressed(&last, &Jid::from(other.clone()), &from),
            );
        }
    }
    if initial {
        redeliver_pending_requests(server, session, user).await;
        if presence.priority.0 >= 0 {
            // In a task of its own: delivery waits for room in this session's outbox, which
            // only this session's task drains, so waiting here could never end.
            let (server, session) = (server.clone(), session.clone());
            tokio::spawn(async move { super::deliver_stored_offline(&server, &session).await });
        }
    }
}

/// Unanswered subscription requests are shown again at every login (RFC 6121 §3.1.3).
async fn redeliver_pending_requests(server: &Server, session: &Session, user: User<'_>) {
    let Ok(pending) = server.storage.pending_in(user).await else {
        return;
    };
    for request in pending {
        if let Ok(stanza) = request.stanza.parse::<Element>() {
            send_element(&session.handle, &stanza);
        }
    }
}

async fn unavailable(server: &Arc<Server>, session: &Session, presence: Option<Presence>) {
    let bare = session.bare();
    let Some(user) = server.local_user(&bare) else {
        return;
    };
    let state = session.handle.presence();
    if state.last.is_none() && state.directed_to.is_empty() {
        return;
    }
    let presence = presence.unwrap_or_else(|| Presence::new(PresenceType::Unavailable));
    let contacts = contact_states(server, user).await;
    let sessions = snapshots(server, &bare);
    let plan = rules::on_unavailable(
        session.jid(),
        &sessions,
        contacts.iter().map(|(j, c)| (j, *c)),
        &state.directed_to,
    );
    session.handle.update_presence(|p| {
        p.last = None;
        if plan.clear_directed {
            p.directed_to.clear();
        }
    });
    // Stored before the broadcast, so a contact that saw us leave and asks for our last
    // activity (XEP-0012) gets the new value, not the previous one.
    let status = presence
        .statuses
        .values()
        .next()
        .cloned()
        .unwrap_or_default();
    let _ = server
        .storage
        .set_last_activity(
            user,
            &LastLogout {
                at: std::time::SystemTime::now(),
                status,
            },
        )
        .await;
    let from = Jid::from(session.jid().clone());
    for contact in &plan.contacts {
        route(server, addressed(&presence, &from, contact)).await;
    }
    for resource in &plan.own_resources {
        if let Some(target) = server.router.session(resource) {
            send_element(
                &target,
                &addressed(&presence, &from, &Jid::from(resource.clone())),
            );
        }
    }
}

/// The session ends: broadcast unavailable if it was available (RFC 6121 §4.5.2).
pub async fn go_offline(server: &Arc<Server>, session: &Session) {
    super::pep::forget_session(server, session);
    unavailable(server, session, None).await;
    // Rooms it had not left by directed presence (XEP-0045 §7.14).
    crate::muc::session_ended(server, session.jid()).await;
}

async fn directed(
    server: &Arc<Server>,
    session: &Session,
    stanza: Element,
    to: &Jid,
    type_: &PresenceType,
) {
    let bare = session.bare();
    let contact = match server.local_user(&bare) {
        Some(user) => roster::contact(server, user, &to.to_bare())
            .await
            .ok()
            .map(|(c, _)| c),
        None => None,
    };
    match rules::directed(to, type_, contact) {
        DirectedChange::Add => session.handle.update_presence(|p| {
            p.directed_to.insert(to.clone());
        }),
        DirectedChange::Remove => session.handle.update_presence(|p| {
            p.directed_to.remove(to);
        }),
        DirectedChange::Unchanged => {}
    }
    route(server, stanza).await;
}

/// The user sends a subscription stanza to `contact` (RFC 6121 §3, Appendix A.2).
async fn outbound_subscription(
    server: &Arc<Server>,
    session: &Session,
    contact: BareJid,
    kind: Kind,
) {
    let bare = session.bare();
    let Some(user) = server.local_user(&bare) else {
        return;
    };
    if contact == bare {
        return;
    }
    let Ok((state, item)) = roster::contact(server, user, &contact).await else {
        return;
    };
    let outcome = subscription::outbound(state, kind);
    match roster::store_contact(server, user, &contact, item.as_ref(), outcome.contact, None).await
    {
        Ok(Some((entry, ver))) => roster::push(server, &bare, roster_rules::push(&entry, &ver)),
        Ok(None) => {}
        Err(err) => {
            tracing::warn!(%err, "storing a subscription change failed");
            return;
        }
    }
    if outcome.forward {
        route(server, from_bare(&bare, &contact, kind.presence_type())).await;
    }
    send_presence_to_contact(server, &bare, &contact, outcome.presence).await;
}

/// After a subscription change, the contact gets the user's current presence (or unavailable).
async fn send_presence_to_contact(
    server: &Arc<Server>,
    bare: &BareJid,
    contact: &BareJid,
    what: PresenceToContact,
) {
    let to = Jid::from(contact.clone());
    for session in server.router.sessions(bare) {
        let Some(last) = session.presence().last else {
            continue;
        };
        let from = Jid::from(session.jid.clone());
        match what {
            PresenceToContact::Available => route(server, addressed(&last, &from, &to)).await,
            PresenceToContact::Unavailable => {
                let p = Presence::new(PresenceType::Unavailable);
                route(server, addressed(&p, &from, &to)).await;
            }
            PresenceToContact::Nothing => return,
        }
    }
}

/// Removing a roster item cancels both directions (RFC 6121 §2.5.2).
pub async fn cancel_both(
    server: &Arc<Server>,
    bare: &BareJid,
    contact: &BareJid,
    state: ContactState,
) {
    let (kinds, presence) = roster_rules::on_remove(state);
    for kind in kinds {
        route(server, from_bare(bare, contact, kind.presence_type())).await;
    }
    // The contact loses its subscription to us: it must see us go offline (RFC 6121 §3.2.2).
    send_presence_to_contact(server, bare, contact, presence).await;
}

/// A presence for a local account, from anyone.
pub async fn to_local_account(
    server: &Arc<Server>,
    stanza: Element,
    to: &Jid,
    sessions: &[Arc<SessionHandle>],
    exists: bool,
) {
    let Ok(presence) = Presence::try_from(stanza.clone()) else {
        return;
    };
    let Some(from) = presence.from.clone() else {
        return;
    };
    let user_bare = to.to_bare();
    let Some(user) = server.local_user(&user_bare) else {
        return;
    };
    if let Some(kind) = Kind::from_presence(&presence.type_) {
        if !exists {
            if kind == Kind::Subscribe {
                route(
                    server,
                    from_bare(&user_bare, &from.to_bare(), PresenceType::Unsubscribed),
                )
                .await;
            }
            return;
        }
        inbound_subscription(
            server,
            &stanza,
            user,
            &user_bare,
            &from.to_bare(),
            kind,
            sessions,
        )
        .await;
        return;
    }
    match presence.type_ {
        PresenceType::Probe => {
            let snapshots: Vec<ResourceSnapshot> = sessions.iter().map(|s| s.snapshot()).collect();
            let prober = from.to_bare();
            let contact = if exists {
                roster::contact(server, user, &prober)
                    .await
                    .ok()
                    .map(|(c, _)| c)
            } else {
                None
            };
            let answer = rules::answer_probe(&user_bare, &prober, contact, &snapshots);
            for reply in answer.stanzas(&user_bare, &from) {
                route(server, reply.into()).await;
            }
        }
        _ => {
            // Available, unavailable and error presence: to the addressed resource, or to every
            // available resource for a bare JID (RFC 6121 §4.2.3, §8.5.2.1.1).
            let Some(bytes) = super::serialise(&stanza) else {
                return;
            };
            for session in sessions {
                let wanted = match to.try_as_full() {
                    Ok(full) => &session.jid == full,
                    Err(_) => session.presence().last.is_some(),
                };
                if wanted {
                    session.send(bytes.clone());
                }
            }
        }
    }
}

/// The contact's subscription stanza arrives for the user (RFC 6121 Appendix A.3).
async fn inbound_subscription(
    server: &Arc<Server>,
    stanza: &Element,
    user: User<'_>,
    user_bare: &BareJid,
    contact: &BareJid,
    kind: Kind,
    sessions: &[Arc<SessionHandle>],
) {
    let Ok((state, item)) = roster::contact(server, user, contact).await else {
        return;
    };
    let outcome = subscription::inbound(state, kind);
    // The request is kept until answered, so it can be shown at every login.
    let mut request = Presence::new(PresenceType::Subscribe);
    request.from = Some(Jid::from(contact.clone()));
    request.to = Some(Jid::from(user_bare.clone()));
    let mut request_xml = Vec::new();
    let _ = Element::from(request).write_to(&mut request_xml);
    let request_xml = String::from_utf8(request_xml).unwrap_or_default();
    let stored = roster::store_contact(
        server,
        user,
        contact,
        item.as_ref(),
        outcome.contact,
        Some(&request_xml),
    )
    .await;
    match stored {
        Ok(Some((entry, ver))) => roster::push(server, user_bare, roster_rules::push(&entry, &ver)),
        Ok(None) => {}
        Err(err) => {
            tracing::warn!(%err, "storing a subscription change failed");
            return;
        }
    }
    if outcome.forward {
        let mut forwarded = stanza.clone();
        super::set_address(
            &mut forwarded,
            super::Address::From,
            Some(&contact.to_string()),
        );
        if let Some(bytes) = super::serialise(&forwarded) {
            for session in sessions.iter().filter(|s| s.presence().last.is_some()) {
                session.send(bytes.clone());
            }
        }
    }
    if let Some(reply) = outcome.auto_reply {
        route(server, from_bare(user_bare, contact, reply.presence_type())).await;
    }
    if kind == Kind::Subscribed && outcome.contact.state.has_to() && !state.state.has_to() {
        super::pep::on_subscribed(server, user_bare, contact).await;
    }
    send_presence_to_contact(server, user_bare, contact, outcome.presence).await;
}
