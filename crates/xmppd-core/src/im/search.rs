//! XEP-0055 user search on the server's JID, over the opt-in directory that vCard updates keep
//! (see `xmppd_modules::xep0055_search` for who is listed).

use super::route;
use crate::server::Server;
use jid::BareJid;
use minidom::Element;
use std::sync::Arc;
use xmpp_parsers::iq::Iq;
use xmppd_modules::xep0055_search::{self, MAX_RESULTS};
use xmppd_storage::{Directory, User};

/// After a vCard is stored: list its owner if it says PUBLIC, else remove them.
pub async fn vcard_stored(server: &Server, user: User<'_>, card: &Element) {
    let nickname = xep0055_search::listing(card, user.username);
    if let Err(err) = server.storage.set_listing(user, nickname.as_deref()).await {
        tracing::warn!(%err, "updating the user directory failed");
    }
}

/// Answers a `jabber:iq:search` get or set addressed to the server.
pub async fn handle(server: &Arc<Server>, iq: &Iq, is_set: bool, payload: Element) {
    let domain = match iq {
        Iq::Get { to: Some(to), .. } | Iq::Set { to: Some(to), .. } => to.domain().to_owned(),
        _ => return,
    };
    let reply = if !is_set {
        xmppd_modules::iq::result(iq, Some(xep0055_search::fields().into()))
    } else {
        match xep0055_search::parse_set(payload) {
            Ok(search) => match server
                .storage
                .search_directory(domain.as_str(), &search.needle, MAX_RESULTS)
                .await
            {
                Ok(found) => {
                    let found = found
                        .into_iter()
                        .filter_map(|l| {
                            let jid = BareJid::from_parts(
                                Some(&jid::NodePart::new(&l.username).ok()?),
                                &domain,
                            );
                            Some((jid, l.nickname))
                        })
                        .collect();
                    let results = xep0055_search::answer(found, search.as_form);
                    xmppd_modules::iq::result(iq, Some(results.into()))
                }
                Err(err) => {
                    tracing::warn!(%err, "searching the user directory failed");
                    Some(super::iq::internal_error(iq))
                }
            },
            Err(err) => {
                let (type_, condition) = err.condition();
                let error =
                    xmppd_modules::stanza_error::make(type_, condition, Some(&err.to_string()));
                xmppd_modules::stanza_error::iq_error(iq, error)
            }
        }
    };
    if let Some(reply) = reply {
        route(server, reply.into()).await;
    }
}
