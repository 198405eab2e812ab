//! XEP-0280 Message Carbons: copies of a user's chats to their other resources that asked.

use super::{Session, send_element};
use crate::router::SessionHandle;
use crate::server::Server;
use jid::{BareJid, FullJid};
use minidom::Element;
use std::sync::Arc;
use xmpp_parsers::message::Message;
use xmppd_config::Module;
use xmppd_modules::xep0280_carbons;

fn eligible(server: &Server, stanza: &Element) -> Option<Message> {
    if !server.enabled(Module::Carbons) {
        return None;
    }
    Message::try_from(stanza.clone())
        .ok()
        .filter(xep0280_carbons::is_eligible)
}

/// After `stanza` reached `delivered` of `account`'s resources: a `<received/>` copy for each
/// other resource with carbons on.
pub fn copy_received(
    server: &Server,
    account: &BareJid,
    sessions: &[Arc<SessionHandle>],
    delivered: &[FullJid],
    stanza: &Element,
) {
    let Some(message) = eligible(server, stanza) else {
        return;
    };
    for session in sessions {
        if delivered.contains(&session.jid) || !session.presence().carbons {
            continue;
        }
        let copy = xep0280_carbons::received(account, &session.jid, message.clone());
        send_element(session, &copy.into());
    }
}

/// A message the user sent: a `<sent/>` copy for each of their other resources with carbons on.
pub fn copy_sent(server: &Server, sender: &Session, stanza: &Element) {
    let Some(message) = eligible(server, stanza) else {
        return;
    };
    let account = sender.bare();
    // A message to the user's own account is delivered there anyway; no copy of it.
    if message
        .to
        .as_ref()
        .is_some_and(|to| to.to_bare() == account)
    {
        return;
    }
    for session in server.router.sessions(&account) {
        if session.id == sender.handle.id || !session.presence().carbons {
            continue;
        }
        let copy = xep0280_carbons::sent(&account, &session.jid, message.clone());
        send_element(&session, &copy.into());
    }
}
