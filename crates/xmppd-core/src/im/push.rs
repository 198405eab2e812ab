//! XEP-0357 push notifications: the account's enable/disable requests, and the notification
//! to every registered app server when a message reaches an account nobody is connected to
//! (offline storage) or whose stream-managed session waits for resumption.

use super::route;
use crate::server::Server;
use jid::{BareJid, Jid};
use minidom::Element;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xmpp_parsers::message::{Message, MessageType};
use xmppd_modules::Error;
use xmppd_modules::xep0357_push::{self, Request, Summary, Throttle};
use xmppd_storage::{PushEnabled, PushRegistration, Pushes, User};

/// Registrations one account may have (one per device, usually).
const MAX_REGISTRATIONS: u32 = 8;
/// The publish-options form is sent with every notification: keep it small.
const MAX_FORM_BYTES: usize = 4096;
/// At most one notification per registration in this interval; later messages are counted.
const MIN_INTERVAL: Duration = Duration::from_secs(10);

/// Which registration a notification is for: account, app server, node.
type Key = (BareJid, String, String);

/// The per-registration rate limit, shared by all sessions.
#[derive(Debug)]
pub struct PushThrottle(Mutex<Throttle<Key>>);

impl Default for PushThrottle {
    fn default() -> Self {
        Self(Mutex::new(Throttle::new(MIN_INTERVAL)))
    }
}

impl PushThrottle {
    fn with<R>(&self, f: impl FnOnce(&mut Throttle<Key>) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// An `<enable/>` or `<disable/>` from the account's own session.
pub async fn handle(
    server: &Arc<Server>,
    bare: &BareJid,
    user: User<'_>,
    payload: Element,
) -> Result<Option<Element>, Option<Error>> {
    // Like the other account stores: a storage failure answers service-unavailable.
    let storage_failed = |err: xmppd_storage::StorageError| {
        tracing::warn!(%err, "push registration storage failed");
        None
    };
    match xep0357_push::parse(payload, MAX_FORM_BYTES).map_err(Some)? {
        Request::Enable { jid, node, form } => {
            let registration = PushRegistration {
                jid: jid.to_string(),
                node,
                form,
            };
            let enabled = server
                .storage
                .enable_push(user, &registration, MAX_REGISTRATIONS)
                .await
                .map_err(storage_failed)?;
            match enabled {
                PushEnabled::Stored => Ok(None),
                PushEnabled::LimitReached => Err(Some(Error::PushTooMany(MAX_REGISTRATIONS))),
            }
        }
        Request::Disable { jid, node } => {
            let jid = jid.to_string();
            let nodes: Vec<String> = match &node {
                Some(node) => vec![node.clone()],
                None => registrations(server, user)
                    .await
                    .into_iter()
                    .filter(|r| r.jid == jid)
                    .map(|r| r.node)
                    .collect(),
            };
            server
                .storage
                .disable_push(user, &jid, node.as_deref())
                .await
                .map_err(storage_failed)?;
            server.push.with(|t| {
                for node in nodes {
                    t.forget(&(bare.clone(), jid.clone(), node));
                }
            });
            Ok(None)
        }
    }
}

async fn registrations(server: &Server, user: User<'_>) -> Vec<PushRegistration> {
    server
        .storage
        .push_registrations(user)
        .await
        .unwrap_or_else(|err| {
            tracing::warn!(%err, "reading push registrations failed");
            Vec::new()
        })
}

/// Is this a message worth waking a device for? Only ones with a body (§7 leaves the choice to
/// the server; receipts, chat states and errors would only drain batteries).
fn wakes_device(message: &Element) -> bool {
    Message::try_from(message.clone())
        .is_ok_and(|m| m.type_ != MessageType::Error && !m.bodies.is_empty())
}

/// `message` reached `bare`, who will only see it later: tell every app server the account
/// registered, within the rate limit. The body never leaves the server (privacy).
pub async fn notify(server: &Arc<Server>, bare: &BareJid, user: User<'_>, message: &Element) {
    if !server.enabled(xmppd_config::Module::Push) || !wakes_device(message) {
        return;
    }
    let sender = message.attr("from").and_then(|f| Jid::new(f).ok());
    for registration in registrations(server, user).await {
        let Ok(app_server) = Jid::new(&registration.jid) else {
            continue;
        };
        let key = (bare.clone(), registration.jid, registration.node.clone());
        let Some(count) = server.push.with(|t| t.on_message(key, Instant::now())) else {
            continue;
        };
        let Ok(id) = xmppd_stream::writer::new_stream_id() else {
            continue;
        };
        let summary = Summary {
            message_count: count,
            last_message_sender: sender.clone(),
        };
        let iq = xep0357_push::notification(
            id,
            bare,
            app_server,
            &registration.node,
            &summary,
            registration.form.as_deref(),
        );
        tracing::debug!("push: notifying an app server");
        route(server, Element::from(iq)).await;
    }
}
