//! Stanzas from bound sessions, and their delivery to local accounts (RFC 6121).
//!
//! The rules themselves live in `xmppd-modules` as pure functions; this layer feeds them the
//! current state (router, storage) and carries out their decisions.

mod addresses;
mod adhoc;
mod adhoc_accounts;
pub mod blocking;
mod carbons;
mod deliver;
mod iq;
pub mod mam;
pub(crate) mod mam_query;
mod offline_gate;
pub mod pep;
mod presence;
mod push;
mod register;
mod roster;
mod search;

pub use adhoc::new_sessions as adhoc_sessions;
pub(crate) use deliver::store_offline;
pub use deliver::{bounce, deliver_stored_offline, route};
pub use mam::start as start_archiver;
pub use offline_gate::OfflineGate;
pub use presence::go_offline;
pub use push::PushThrottle;
pub use register::register_stranger;

use crate::router::SessionHandle;
use crate::server::Server;
use bytes::Bytes;
use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use std::sync::Arc;
use xmpp_parsers::ns;

/// A bound client session as the IM layer needs it.
#[derive(Debug, Clone)]
pub struct Session {
    pub handle: Arc<SessionHandle>,
}

impl Session {
    pub fn jid(&self) -> &FullJid {
        &self.handle.jid
    }

    pub fn bare(&self) -> BareJid {
        self.handle.jid.to_bare()
    }
}

/// Handles one stanza a bound client sent. `from` is stamped with the session's full JID
/// whatever the client wrote (RFC 6120 §8.1.2.1).
pub async fn handle_from_client(server: &Arc<Server>, session: &Session, mut stanza: Element) {
    set_address(&mut stanza, Address::From, Some(&session.jid().to_string()));
    let to = match stanza.attr("to").map(Jid::new) {
        None => None,
        Some(Ok(jid)) => Some(jid),
        Some(Err(_)) => {
            // The typed bounce cannot parse a stanza with a malformed `to`; without it the
            // error comes from the server itself (RFC 6120 §8.3.3.8).
            set_address(&mut stanza, Address::To, None);
            let error = xmppd_modules::stanza_error::make(
                xmpp_parsers::stanza_error::ErrorType::Modify,
                xmpp_parsers::stanza_error::DefinedCondition::JidMalformed,
                None,
            );
            if let Some(bounce) = xmppd_modules::stanza_error::bounce(&stanza, error) {
                send_element(&session.handle, &bounce);
            }
            return;
        }
    };
    if stanza.is("presence", ns::DEFAULT_NS) {
        presence::from_client(server, session, stanza, to).await;
    } else if stanza.is("iq", ns::DEFAULT_NS) {
        iq::from_client(server, session, stanza, to).await;
    } else {
        // Messages (and anything else addressed) go through normal routing; a message without
        // `to` is addressed to the sender's own bare JID (RFC 6120 §10.3.1).
        let to = to.unwrap_or_else(|| Jid::from(session.bare()));
        set_address(&mut stanza, Address::To, Some(&to.to_string()));
        if stanza.is("message", ns::DEFAULT_NS) {
            carbons::copy_sent(server, session, &stanza);
        }
        route(server, stanza).await;
    }
}

/// Sets (or with `None` removes) the `from` or `to` attribute of a stanza.
pub fn set_address(stanza: &mut Element, attr: Address, value: Option<&str>) {
    let name = match attr {
        Address::From => rxml::xml_ncname!("from").to_owned(),
        Address::To => rxml::xml_ncname!("to").to_owned(),
    };
    let attrs = stanza.attrs_mut();
    match value {
        Some(value) => {
            attrs.insert(rxml::Namespace::NONE, name, value.to_owned());
        }
        None => {
            attrs.remove(&rxml::Namespace::NONE, &name);
        }
    }
}

/// The two addressing attributes of a stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Address {
    From,
    To,
}

/// Serialises a stanza once, for one or many recipients.
pub fn serialise(stanza: &Element) -> Option<Bytes> {
    match xmppd_stream::writer::element(stanza) {
        Ok(bytes) => Some(Bytes::from(bytes)),
        Err(err) => {
            tracing::warn!(%err, "serialising a stanza failed");
            None
        }
    }
}

/// Sends one stanza to one session.
pub fn send_element(handle: &SessionHandle, stanza: &Element) -> bool {
    serialise(stanza).is_some_and(|b| handle.send(b))
}
