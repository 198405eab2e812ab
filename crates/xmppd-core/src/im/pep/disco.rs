//! XEP-0030 disco#items of an account's bare JID: its PEP nodes (XEP-0163 §7), each listed
//! only to those its access model lets read it.

use super::{from_stored, relation};
use crate::server::Server;
use jid::BareJid;
use xmpp_parsers::iq::Iq;
use xmppd_modules::iq as iq_rules;
use xmppd_modules::xep0163_pep as pep;
use xmppd_storage::PepStore;
/// The nodes of `owner` that `requester` may read.
pub async fn disco_items(server: &Server, requester: &BareJid, owner: &BareJid, iq: &Iq) -> Iq {
    let node = match iq {
        Iq::Get { payload, .. } => payload.attr("node").map(str::to_owned),
        _ => {
            return crate::im::iq::error_with(
                iq,
                xmpp_parsers::stanza_error::ErrorType::Cancel,
                xmpp_parsers::stanza_error::DefinedCondition::BadRequest,
            );
        }
    };
    let mut items = Vec::new();
    // Nodes are leaves: only the account itself lists them.
    if let (None, Some(user)) = (&node, server.local_user(owner)) {
        let nodes = match server.storage.pep_nodes(user).await {
            Ok(nodes) => nodes,
            Err(err) => {
                tracing::warn!(%err, "listing PEP nodes failed");
                return crate::im::iq::internal_error(iq);
            }
        };
        let relation = relation(server, owner, user, requester).await;
        for (name, stored) in nodes {
            if pep::may_read(from_stored(&stored).access_model, relation).is_ok() {
                items.push(xmpp_parsers::disco::Item {
                    jid: jid::Jid::from(owner.clone()),
                    node: Some(name),
                    name: None,
                });
            }
        }
    }
    let result = server.disco.account_items(node.as_deref(), items);
    iq_rules::result(iq, Some(result.into())).unwrap_or_else(|| iq.clone())
}
