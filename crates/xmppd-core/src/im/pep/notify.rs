//! Who gets a PEP notification (XEP-0163 §4.3): the owner's own resources and the available
//! resources of contacts with a presence subscription, each only if its caps ask for the node
//! with `+notify` and the access model lets it read.

use super::Server;
use crate::im::send_element;
use jid::{BareJid, FullJid};
use minidom::Element;
use xmppd_modules::xep0060_pubsub::NodeConfig;
use xmppd_modules::xep0163_pep::{self as pep, Candidate, Relation};
use xmppd_storage::User;

fn available_candidates(
    server: &Server,
    bare: &BareJid,
    relation: Relation,
    node: &str,
    out: &mut Vec<Candidate>,
) {
    for session in server.router.sessions(bare) {
        if session.presence().last.is_none() {
            continue;
        }
        out.push(Candidate {
            jid: session.jid.clone(),
            relation,
            wants_node: server.pep.caps.wants(&session.jid, node),
        });
    }
}

/// The full JIDs that get notifications of `node` of `owner`.
pub async fn recipients(
    server: &Server,
    owner: &BareJid,
    user: User<'_>,
    node: &str,
    config: &NodeConfig,
) -> Vec<FullJid> {
    let mut candidates = Vec::new();
    available_candidates(server, owner, Relation::Owner, node, &mut candidates);
    match crate::im::roster::contacts(server, user).await {
        Ok(entries) => {
            for entry in entries.iter().filter(|e| e.contact.state.has_from()) {
                let relation = Relation::PresenceSubscriber;
                available_candidates(server, &entry.jid, relation, node, &mut candidates);
            }
        }
        Err(err) => tracing::warn!(%err, "loading a roster for PEP notifications failed"),
    }
    pep::recipients(config.access_model, &candidates)
}

fn send_each(server: &Server, targets: &[FullJid], make: impl Fn(&FullJid) -> Element) {
    for target in targets {
        if let Some(session) = server.router.session(target) {
            send_element(&session, &make(target));
        }
    }
}

pub fn published(
    server: &Server,
    owner: &BareJid,
    targets: &[FullJid],
    node: &str,
    id: &str,
    payload: &Element,
) {
    send_each(server, targets, |to| {
        pep::published(owner, to, node, id, payload.clone()).into()
    });
}

pub fn retracted(server: &Server, owner: &BareJid, targets: &[FullJid], node: &str, id: &str) {
    send_each(server, targets, |to| {
        pep::retracted(owner, to, node, id).into()
    });
}

pub fn node_gone(server: &Server, owner: &BareJid, targets: &[FullJid], node: &str, purged: bool) {
    send_each(server, targets, |to| {
        pep::node_gone(owner, to, node, purged).into()
    });
}

/// Sends the last item of every node `to` may read and asked for, from its own account and
/// from every local contact whose presence it receives (XEP-0163 §4.3.4, on presence).
pub async fn last_items(server: &Server, to: &FullJid) {
    let bare = to.to_bare();
    let Some(user) = server.local_user(&bare) else {
        return;
    };
    let mut owners = vec![bare.clone()];
    if let Ok(entries) = crate::im::roster::contacts(server, user).await {
        owners.extend(
            entries
                .into_iter()
                .filter(|e| e.contact.state.has_to())
                .map(|e| e.jid),
        );
    }
    let features = server.pep.caps.features_of(to);
    for owner in owners {
        let Some(owner_user) = server.local_user(&owner) else {
            continue;
        };
        last_items_of(server, &owner, owner_user, &bare, to, &features, false).await;
    }
}

/// `subscriber` was just allowed to see `owner`'s presence: its available resources get the
/// last items of `owner` they asked for (XEP-0163 §4.3.4, on subscription).
pub async fn on_subscribed(server: &Server, subscriber: &BareJid, owner: &BareJid) {
    if !server.enabled(xmppd_config::Module::Pep) {
        return;
    }
    let Some(owner_user) = server.local_user(owner) else {
        return;
    };
    for session in server.router.sessions(subscriber) {
        if session.presence().last.is_none() {
            continue;
        }
        let features = server.pep.caps.features_of(&session.jid);
        last_items_of(
            server,
            owner,
            owner_user,
            subscriber,
            &session.jid,
            &features,
            true,
        )
        .await;
    }
}

async fn last_items_of(
    server: &Server,
    owner: &BareJid,
    owner_user: User<'_>,
    requester: &BareJid,
    to: &FullJid,
    features: &[String],
    on_sub: bool,
) {
    use xmppd_modules::xep0060_pubsub::SendLast;
    use xmppd_storage::PepStore;
    let Ok(nodes) = server.storage.pep_nodes(owner_user).await else {
        return;
    };
    let wanted: Vec<_> = nodes
        .into_iter()
        .map(|(node, stored)| (node, super::from_stored(&stored)))
        .filter(|(node, config)| {
            let when = config.send_last == SendLast::OnSubAndPresence
                || (on_sub && config.send_last == SendLast::OnSub);
            when && pep::wants(features, node)
        })
        .collect();
    if wanted.is_empty() {
        return;
    }
    let relation = super::relation(server, owner, owner_user, requester).await;
    for (node, config) in wanted {
        if pep::may_read(config.access_model, relation).is_err() {
            continue;
        }
        let Ok(items) = server.storage.pep_items(owner_user, &node, 1, &[]).await else {
            continue;
        };
        for item in items {
            if let Ok(payload) = item.xml.parse::<Element>() {
                published(
                    server,
                    owner,
                    std::slice::from_ref(to),
                    &node,
                    &item.id,
                    &payload,
                );
            }
        }
    }
}
