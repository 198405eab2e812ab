//! Routing a stanza to its addressee, and delivery to local accounts (RFC 6121 §8.5), including
//! offline storage (XEP-0160).

use super::{Session, serialise};
use crate::server::Server;
use chrono::{DateTime, Utc};
use jid::Jid;
use minidom::Element;
use std::sync::Arc;
use xmpp_parsers::message::Message;
use xmpp_parsers::ns;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xmppd_config::Module;
use xmppd_modules::rfc6121::delivery::{self, Decision, StanzaKind};
use xmppd_modules::rfc6121::presence::ResourceSnapshot;
use xmppd_modules::{stanza_error, xep0160_offline};
use xmppd_storage::{Accounts, Offline};

/// Offline messages delivered per batch at login.
const OFFLINE_BATCH: u32 = 100;

/// Routes a stanza that has `from` and `to` set. Boxed because bounces route again.
pub fn route<'a>(
    server: &'a Arc<Server>,
    stanza: Element,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        let Some(to) = stanza.attr("to").and_then(|t| Jid::new(t).ok()) else {
            return;
        };
        if let Some(muc) = server
            .muc
            .as_ref()
            .filter(|m| m.serves(to.domain().as_str()))
        {
            crate::muc::handle(server, muc, stanza).await;
            return;
        }
        if let Some(component) = server.components.get(to.domain().as_str()) {
            component.handle(server, stanza).await;
            return;
        }
        if !server.serves(to.domain().as_str()) {
            let ours = server.config.all_domains().contains(&to.domain().as_str());
            if !ours && crate::s2s::enabled(server) {
                crate::s2s::send(server, stanza, to.domain().as_str()).await;
                return;
            }
            // Without federation, say so instead of dropping silently.
            let condition = if ours {
                DefinedCondition::ServiceUnavailable
            } else {
                DefinedCondition::RemoteServerNotFound
            };
            bounce(server, &stanza, ErrorType::Cancel, condition).await;
            return;
        }
        if to.node().is_none() {
            if stanza.is("iq", ns::DEFAULT_NS) {
                super::iq::to_server(server, stanza).await;
            } else if server.enabled(Module::ExtendedAddressing)
                && super::addresses::is_multicast(&stanza)
            {
                super::addresses::multicast(server, stanza).await;
            }
            // Messages and presence to the server itself have nobody to reach.
            return;
        }
        to_local_account(server, stanza, to).await;
    })
}

/// Sends an error for `stanza` back to its sender (never for errors: no loops).
pub async fn bounce(
    server: &Arc<Server>,
    stanza: &Element,
    type_: ErrorType,
    condition: DefinedCondition,
) {
    if stanza.attr("type") == Some("error") {
        return;
    }
    let error = stanza_error::make(type_, condition, None);
    if let Some(reply) = stanza_error::bounce(stanza, error) {
        route(server, reply).await;
    }
}

async fn to_local_account(server: &Arc<Server>, stanza: Element, to: Jid) {
    let bare = to.to_bare();
    let Some(user) = server.local_user(&bare) else {
        return;
    };
    let sessions = server.router.sessions(&bare);
    let exists = !sessions.is_empty()
        || server
            .storage
            .account_exists(user)
            .await
            .unwrap_or_else(|err| {
                tracing::warn!(%err, "looking up an account failed");
                false
            });
    match super::blocking::check(server, &stanza, &to).await {
        super::blocking::Verdict::Pass => {}
        super::blocking::Verdict::Drop => return,
        super::blocking::Verdict::Refuse(error) => {
            if let Some(reply) = stanza_error::bounce(&stanza, *error) {
                route(server, reply).await;
            }
            return;
        }
    }
    if stanza.is("presence", ns::DEFAULT_NS) {
        super::presence::to_local_account(server, stanza, &to, &sessions, exists).await;
        return;
    }
    let snapshots: Vec<ResourceSnapshot> = sessions.iter().map(|s| s.snapshot()).collect();
    let Ok(kind) = StanzaKind::from_element(&stanza) else {
        bounce(
            server,
            &stanza,
            ErrorType::Modify,
            DefinedCondition::BadRequest,
        )
        .await;
        return;
    };
    let decision = delivery::route_local(&to, &kind, exists.then_some(&snapshots[..]));
    // Archived (and given its stanza id) only when it reaches the account.
    let stanza = match decision {
        Decision::DeliverTo(_) | Decision::StoreOffline if stanza.is("message", ns::DEFAULT_NS) => {
            super::mam::archive(server, stanza).await
        }
        _ => stanza,
    };
    match decision {
        Decision::DeliverTo(targets) => {
            deliver_to(server, &bare, user, &sessions, &targets, stanza).await;
        }
        Decision::StoreOffline => {
            let gate = server.offline_gate.lock(&bare).await;
            // The recipient may have come online since the decision, and fetched its offline
            // store already: decide again under the gate (see `offline_gate.rs`).
            let sessions = server.router.sessions(&bare);
            let snapshots: Vec<ResourceSnapshot> = sessions.iter().map(|s| s.snapshot()).collect();
            match delivery::route_local(&to, &kind, Some(&snapshots[..])) {
                Decision::DeliverTo(targets) => {
                    drop(gate);
                    deliver_to(server, &bare, user, &sessions, &targets, stanza).await;
                }
                _ => {
                    let stored = store_offline(server, stanza.clone(), user).await;
                    drop(gate);
                    if stored {
                        super::push::notify(server, &bare, user, &stanza).await;
                    }
                }
            }
        }
        Decision::HandleOnBehalf => super::iq::on_behalf_of_account(server, stanza, bare).await,
        Decision::Error(type_, condition) => bounce(server, &stanza, type_, condition).await,
        Decision::Drop => {}
    }
}

/// Queues one serialisation of `stanza` on each target session, plus carbon copies; push
/// notifications when every target is a detached XEP-0198 session, and offline storage for
/// what a stream-managed session's full outbox could not take.
async fn deliver_to(
    server: &Arc<Server>,
    bare: &jid::BareJid,
    user: xmppd_storage::User<'_>,
    sessions: &[Arc<crate::router::SessionHandle>],
    targets: &[jid::FullJid],
    stanza: Element,
) {
    let Some(bytes) = serialise(&stanza) else {
        return;
    };
    let mut undelivered = false;
    // XEP-0357: nobody will read it before a detached session is resumed.
    let mut all_detached = !targets.is_empty();
    for target in targets {
        if let Some(session) = sessions.iter().find(|s| &s.jid == target) {
            // XEP-0198 sessions must not lose messages: a full outbox means offline.
            undelivered |= !session.send(bytes.clone())
                && session
                    .sm_enabled
                    .load(std::sync::atomic::Ordering::Relaxed);
            all_detached &= session
                .sm_detached
                .load(std::sync::atomic::Ordering::Relaxed);
        } else {
            all_detached = false;
        }
    }
    if stanza.is("message", ns::DEFAULT_NS) {
        super::carbons::copy_received(server, bare, sessions, targets, &stanza);
        if all_detached {
            super::push::notify(server, bare, user, &stanza).await;
        }
        if undelivered {
            store_offline(server, stanza, user).await;
        }
    }
}

/// Stores a message for later; true when it was stored.
pub(crate) async fn store_offline(
    server: &Arc<Server>,
    stanza: Element,
    user: xmppd_storage::User<'_>,
) -> bool {
    let Ok(message) = Message::try_from(stanza.clone()) else {
        return false;
    };
    if !server.enabled(xmppd_config::Module::Offline) || !xep0160_offline::should_store(&message) {
        return false;
    }
    let mut bytes = Vec::new();
    if stanza.write_to(&mut bytes).is_err() {
        return false;
    }
    let from = stanza.attr("from").unwrap_or_default().to_owned();
    let limit = server.config.limits.offline_messages_per_account;
    let stored = server
        .storage
        .store_offline(user, &from, &bytes, std::time::SystemTime::now(), limit)
        .await;
    if let Err(err) = stored {
        tracing::info!(%err, "offline storage refused a message");
        bounce(
            server,
            &stanza,
            ErrorType::Wait,
            DefinedCondition::ResourceConstraint,
        )
        .await;
        return false;
    }
    true
}

/// Delivers stored messages to a session that just sent initial presence, deleting each batch
/// only once it is queued for the session (nothing is lost if the session dies meanwhile).
pub async fn deliver_stored_offline(server: &Arc<Server>, session: &Session) {
    let bare = session.bare();
    let Some(user) = server.local_user(&bare) else {
        return;
    };
    let domain = Jid::from(jid::BareJid::from_parts(None, bare.domain()));
    loop {
        let fetched = {
            let _gate = server.offline_gate.lock(&bare).await;
            server.storage.fetch_offline(user, OFFLINE_BATCH).await
        };
        let batch = match fetched {
            Ok(batch) if !batch.is_empty() => batch,
            Ok(_) => return,
            Err(err) => {
                tracing::warn!(%err, "fetching offline messages failed");
                return;
            }
        };
        let mut last = None;
        for stored in &batch {
            let parsed = std::str::from_utf8(&stored.stanza)
                .ok()
                .and_then(|text| text.parse::<Element>().ok())
                .and_then(|el| Message::try_from(el).ok());
            if let Some(message) = parsed {
                let mut message = message;
                message.to = Some(Jid::from(session.jid().clone()));
                let stamped = xep0160_offline::stamp(
                    message,
                    &domain,
                    DateTime::<Utc>::from(stored.stored_at),
                );
                let Some(bytes) = serialise(&Element::from(stamped)) else {
                    continue;
                };
                if !session.handle.send_wait(bytes).await {
                    break;
                }
            }
            last = Some(stored.id);
        }
        let Some(last) = last else { return };
        if let Err(err) = server.storage.delete_offline_up_to(user, last).await {
            tracing::warn!(%err, "deleting delivered offline messages failed");
            return;
        }
        if batch.len() < OFFLINE_BATCH as usize {
            return;
        }
    }
}
