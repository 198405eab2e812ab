//! Conversions the server keeps in step (XEP-0402 §5 bookmarks with XEP-0048 in private XML,
//! XEP-0398 avatars with the vCard PHOTO), and the XEP-0153 photo hash of each account.
//! Each direction writes the other store directly, never through the handler that would
//! convert back, so a change cannot loop.

use super::{NodeConfig, Server, load, publish_internal, retract};
use jid::BareJid;
use minidom::Element;
use xmpp_parsers::presence::Presence;
use xmppd_config::Module;
use xmppd_modules::xep0060_pubsub::config::MAX_ITEMS_CAP;
use xmppd_modules::{xep0398_avatar as avatar, xep0402_bookmarks as bookmarks};
use xmppd_storage::{PepStore, PrivateXml, User, VCards};

fn converts_bookmarks(server: &Server) -> bool {
    server.enabled(Module::Pep)
        && server.enabled(Module::Bookmarks)
        && server.enabled(Module::Private)
}

fn converts_avatars(server: &Server) -> bool {
    server.enabled(Module::Pep) && server.enabled(Module::Vcard)
}

async fn items(server: &Server, user: User<'_>, node: &str) -> Vec<(String, Element)> {
    let stored = server
        .storage
        .pep_items(user, node, MAX_ITEMS_CAP, &[])
        .await
        .unwrap_or_default();
    stored
        .into_iter()
        .rev()
        .filter_map(|i| Some((i.id, i.xml.parse().ok()?)))
        .collect()
}

/// A node of the account changed through pubsub: carry the change over to the old form.
pub async fn after_publish(server: &Server, owner: &BareJid, user: User<'_>, node: &str) {
    if node == bookmarks::NODE && converts_bookmarks(server) {
        let current = items(server, user, node).await;
        let previous = server
            .storage
            .private_xml(user, bookmarks::LEGACY_NS)
            .await
            .ok()
            .flatten()
            .and_then(|x| x.parse().ok());
        let legacy = bookmarks::legacy_from_items(&current, previous);
        if let Err(err) = server
            .storage
            .set_private_xml(user, bookmarks::LEGACY_NS, &String::from(&legacy))
            .await
        {
            tracing::warn!(%err, "writing XEP-0048 bookmarks failed");
        }
    } else if node == avatar::METADATA_NODE && converts_avatars(server) {
        avatar_to_vcard(server, owner, user).await;
    }
}

async fn avatar_to_vcard(server: &Server, owner: &BareJid, user: User<'_>) {
    let metadata = items(server, user, avatar::METADATA_NODE).await;
    let photo = match metadata.last().and_then(|(_, m)| avatar::current_avatar(m)) {
        Some((id, mime)) => {
            let data = server
                .storage
                .pep_items(user, avatar::DATA_NODE, 1, std::slice::from_ref(&id))
                .await
                .ok()
                .and_then(|d| d.into_iter().next())
                .and_then(|d| d.xml.parse::<Element>().ok())
                .and_then(|d| avatar::data_bytes(&d));
            // Metadata naming data we do not hold (a URL-only avatar) leaves the vCard alone.
            let Some(bytes) = data else { return };
            Some((mime, bytes))
        }
        None => None,
    };
    let stored = server
        .storage
        .vcard(user)
        .await
        .ok()
        .flatten()
        .and_then(|x| x.parse().ok());
    let card = avatar::vcard_with_photo(stored, photo.as_ref().map(|(m, b)| (m.as_str(), &b[..])));
    match server.storage.set_vcard(user, &String::from(&card)).await {
        Ok(()) => remember_hash(server, owner, avatar::photo_hash(&card)),
        Err(err) => tracing::warn!(%err, "writing the vCard photo failed"),
    }
}

/// XEP-0048 bookmarks were stored in private XML: make the XEP-0402 node hold the same rooms.
pub async fn legacy_bookmarks_stored(
    server: &Server,
    owner: &BareJid,
    user: User<'_>,
    storage: &Element,
) {
    if !converts_bookmarks(server) {
        return;
    }
    let Some(wanted) = bookmarks::items_from_legacy(storage.clone()) else {
        return;
    };
    let current = items(server, user, bookmarks::NODE).await;
    let changes = bookmarks::changes(&current, wanted);
    for (id, payload) in changes.publish {
        let config = bookmarks::node_config();
        if let Err(err) =
            publish_internal(server, owner, user, bookmarks::NODE, config, &id, payload).await
        {
            tracing::warn!(%err, "publishing a converted bookmark failed");
        }
    }
    if let Ok(Some(config)) = load(server, user, bookmarks::NODE).await {
        for id in changes.retract {
            let _ = retract(server, owner, user, bookmarks::NODE, &config, &id, true).await;
        }
    }
}

/// A vCard was stored by its owner: publish its photo as the XEP-0084 avatar.
pub async fn vcard_stored(server: &Server, owner: &BareJid, user: User<'_>, card: &Element) {
    if !converts_avatars(server) {
        return;
    }
    remember_hash(server, owner, avatar::photo_hash(card));
    let current = items(server, user, avatar::METADATA_NODE).await;
    let current_id = current
        .last()
        .and_then(|(_, m)| avatar::current_avatar(m))
        .map(|(id, _)| id);
    let config: NodeConfig = avatar::node_config();
    let published = match avatar::vcard_photo(card) {
        Some((mime, bytes)) => {
            let Some((id, data, metadata)) = avatar::avatar_items(&mime, &bytes) else {
                return;
            };
            if current_id.as_ref() == Some(&id) {
                return;
            }
            let node = avatar::DATA_NODE;
            match publish_internal(server, owner, user, node, config, &id, data).await {
                Ok(()) => {
                    let node = avatar::METADATA_NODE;
                    publish_internal(server, owner, user, node, config, &id, metadata).await
                }
                Err(err) => Err(err),
            }
        }
        // The photo was removed: an empty metadata item says "no avatar" (XEP-0084 §4.5).
        None if current_id.is_some() => {
            let empty = xmpp_parsers::avatar::Metadata { infos: Vec::new() };
            let node = avatar::METADATA_NODE;
            publish_internal(server, owner, user, node, config, "none", empty.into()).await
        }
        None => Ok(()),
    };
    if let Err(err) = published {
        tracing::warn!(%err, "publishing the vCard photo as avatar failed");
    }
}

fn remember_hash(server: &Server, owner: &BareJid, hash: Option<[u8; 20]>) {
    let mut hashes = server
        .pep
        .photo_hashes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    hashes.insert(owner.clone(), hash);
}

/// XEP-0398 §4: the account's presence carries the hash of its vCard photo.
pub async fn stamp_presence(server: &Server, owner: &BareJid, presence: &mut Presence) {
    if !converts_avatars(server) {
        return;
    }
    let Some(user) = server.local_user(owner) else {
        return;
    };
    let cached = server
        .pep
        .photo_hashes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(owner)
        .copied();
    let hash = match cached {
        Some(hash) => hash,
        None => {
            let hash = server
                .storage
                .vcard(user)
                .await
                .ok()
                .flatten()
                .and_then(|x| x.parse::<Element>().ok())
                .and_then(|card| avatar::photo_hash(&card));
            remember_hash(server, owner, hash);
            hash
        }
    };
    avatar::stamp_presence(presence, hash);
}
