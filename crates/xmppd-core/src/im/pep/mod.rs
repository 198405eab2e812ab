//! XEP-0163 PEP: the pubsub service on every account's bare JID. The rules are in
//! `xmppd_modules::{xep0060_pubsub, xep0163_pep}`; this layer reads and writes storage, works
//! out who is online and interested (`caps.rs`), and keeps bookmarks and avatars in step with
//! their older forms (`convert.rs`).

mod caps;
mod convert;
mod disco;
mod notify;

pub use caps::{forget_session, iq_response};
pub use convert::{legacy_bookmarks_stored, vcard_stored};
pub use disco::disco_items;
pub use notify::on_subscribed;

use crate::server::Server;
use jid::BareJid;
use minidom::Element;
use std::collections::HashMap;
use std::sync::Mutex;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::pubsub::{ItemId, NodeName, PubSub, owner, pubsub as ps};
use xmppd_modules::xep0060_pubsub::{self as pubsub, NodeConfig, PubSubError, Request};
use xmppd_modules::xep0163_pep::{self as pep, Relation};
use xmppd_modules::{iq as iq_rules, stanza_error};
use xmppd_storage::{PepItem, PepNodeConfig, PepStore, User};

/// In-memory PEP state shared by all sessions: what each client's caps say it wants, and the
/// photo hash each account's presence carries.
#[derive(Debug, Default)]
pub struct PepState {
    caps: caps::CapsCache,
    photo_hashes: Mutex<HashMap<BareJid, Option<[u8; 20]>>>,
}

/// Is this payload a pubsub request?
pub fn is_pubsub(payload: &Element) -> bool {
    payload.is("pubsub", ns::PUBSUB) || payload.is("pubsub", ns::PUBSUB_OWNER)
}

/// Answers a pubsub IQ from `requester` to the PEP service of `owner`.
pub async fn handle_iq(server: &Server, requester: &BareJid, owner: &BareJid, iq: &Iq) -> Iq {
    let (is_set, payload) = match iq {
        Iq::Get { payload, .. } => (false, payload.clone()),
        Iq::Set { payload, .. } => (true, payload.clone()),
        _ => return iq.clone(),
    };
    let answer = match pubsub::parse(requester, owner, is_set, payload) {
        Ok(request) => match server.local_user(owner) {
            Some(user) => execute(server, requester, owner, user, request).await,
            None => Err(Failure::Refused(PubSubError::NotFound)),
        },
        Err(e) => Err(Failure::Refused(e)),
    };
    match answer {
        Ok(payload) => iq_rules::result(iq, payload).unwrap_or_else(|| iq.clone()),
        Err(Failure::Refused(e)) => {
            stanza_error::iq_error(iq, e.stanza_error()).unwrap_or_else(|| iq.clone())
        }
        Err(Failure::Storage(err)) => {
            tracing::warn!(%err, "a PEP storage operation failed");
            super::iq::internal_error(iq)
        }
    }
}

/// Why a request was not carried out.
enum Failure {
    Refused(PubSubError),
    Storage(xmppd_storage::StorageError),
}

impl From<xmppd_storage::StorageError> for Failure {
    fn from(err: xmppd_storage::StorageError) -> Self {
        Self::Storage(err)
    }
}

impl From<PubSubError> for Failure {
    fn from(err: PubSubError) -> Self {
        Self::Refused(err)
    }
}

type Answer = Result<Option<Element>, Failure>;

async fn execute(
    server: &Server,
    requester: &BareJid,
    owner: &BareJid,
    user: User<'_>,
    request: Request,
) -> Answer {
    match request {
        Request::Publish {
            node,
            id,
            payload,
            options,
        } => {
            let existing = load(server, user, &node).await?;
            let config = match (existing, &options) {
                (Some(config), Some(options)) => {
                    config.check_preconditions(options)?;
                    config
                }
                (Some(config), None) => config,
                (None, options) => {
                    let config = NodeConfig::default().apply(&options.clone().unwrap_or_default());
                    create(server, user, &node, &config).await?;
                    config
                }
            };
            let id = id.unwrap_or_else(new_item_id);
            publish(server, owner, user, &node, &config, &id, payload).await?;
            convert::after_publish(server, owner, user, &node).await;
            let item = ps::Item {
                id: Some(ItemId(id)),
                publisher: None,
                payload: None,
            };
            let publish = ps::Publish {
                node: NodeName(node),
                items: vec![item],
            };
            Ok(Some(
                PubSub::Publish {
                    publish,
                    publish_options: None,
                }
                .into(),
            ))
        }
        Request::Retract { node, id, notify } => {
            let config = load(server, user, &node)
                .await?
                .ok_or(PubSubError::NotFound)?;
            retract(server, owner, user, &node, &config, &id, notify).await?;
            convert::after_publish(server, owner, user, &node).await;
            Ok(None)
        }
        Request::Items { node, max, ids } => {
            let config = load(server, user, &node)
                .await?
                .ok_or(PubSubError::NotFound)?;
            let relation = relation(server, owner, user, requester).await;
            pep::may_read(config.access_model, relation)?;
            let max = max.unwrap_or(config.max_items).min(config.max_items);
            let mut stored = server.storage.pep_items(user, &node, max, &ids).await?;
            // Oldest first, the order they were published in.
            stored.reverse();
            let items = stored
                .into_iter()
                .map(|item| ps::Item {
                    id: Some(ItemId(item.id)),
                    publisher: None,
                    payload: item.xml.parse().ok(),
                })
                .collect();
            let mut answer = ps::Items::new(&node);
            answer.items = items;
            Ok(Some(PubSub::Items(answer).into()))
        }
        Request::Create { node, config } => {
            if load(server, user, &node).await?.is_some() {
                return Err(PubSubError::NodeExists.into());
            }
            let config = NodeConfig::default().apply(&config.unwrap_or_default());
            create(server, user, &node, &config).await?;
            Ok(None)
        }
        Request::GetConfig { node } => {
            let config = load(server, user, &node)
                .await?
                .ok_or(PubSubError::NotFound)?;
            let payload = owner::Payload::Configure {
                node: Some(NodeName(node)),
                form: Some(config.form()),
            };
            Ok(Some(owner::Owner { payload }.into()))
        }
        Request::SetConfig { node, config } => {
            let current = load(server, user, &node)
                .await?
                .ok_or(PubSubError::NotFound)?;
            save(server, user, &node, &current.apply(&config)).await?;
            Ok(None)
        }
        Request::Default => {
            let payload = owner::Payload::Default {
                form: Some(NodeConfig::default().form()),
            };
            Ok(Some(owner::Owner { payload }.into()))
        }
        Request::Delete { node } => {
            let config = load(server, user, &node)
                .await?
                .ok_or(PubSubError::NotFound)?;
            let targets = notify::recipients(server, owner, user, &node, &config).await;
            server.storage.delete_pep_node(user, &node).await?;
            notify::node_gone(server, owner, &targets, &node, false);
            convert::after_publish(server, owner, user, &node).await;
            Ok(None)
        }
        Request::Purge { node } => {
            let config = load(server, user, &node)
                .await?
                .ok_or(PubSubError::NotFound)?;
            let targets = notify::recipients(server, owner, user, &node, &config).await;
            // Deleting and re-creating the node drops its items and keeps its configuration.
            server.storage.delete_pep_node(user, &node).await?;
            save(server, user, &node, &config).await?;
            notify::node_gone(server, owner, &targets, &node, true);
            convert::after_publish(server, owner, user, &node).await;
            Ok(None)
        }
    }
}

/// A random item id, for publishes that name none (XEP-0060 §7.1.1).
fn new_item_id() -> String {
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How `requester` stands to `owner` for access models.
async fn relation(
    server: &Server,
    owner: &BareJid,
    user: User<'_>,
    requester: &BareJid,
) -> Relation {
    if requester == owner {
        return Relation::Owner;
    }
    match super::roster::contact(server, user, requester).await {
        Ok((state, _)) if state.state.has_from() => Relation::PresenceSubscriber,
        _ => Relation::Stranger,
    }
}

fn to_stored(config: &NodeConfig) -> PepNodeConfig {
    PepNodeConfig {
        access_model: config.access_model.as_str().to_owned(),
        max_items: config.max_items,
        persist_items: config.persist_items,
        send_last: config.send_last.as_str().to_owned(),
    }
}

fn from_stored(stored: &PepNodeConfig) -> NodeConfig {
    let default = NodeConfig::default();
    NodeConfig {
        access_model: pubsub::AccessModel::parse(&stored.access_model)
            .unwrap_or(default.access_model),
        max_items: stored.max_items.clamp(1, pubsub::config::MAX_ITEMS_CAP),
        persist_items: stored.persist_items,
        send_last: pubsub::SendLast::parse(&stored.send_last).unwrap_or(default.send_last),
    }
}

async fn load(
    server: &Server,
    user: User<'_>,
    node: &str,
) -> Result<Option<NodeConfig>, xmppd_storage::StorageError> {
    Ok(server
        .storage
        .pep_node(user, node)
        .await?
        .map(|c| from_stored(&c)))
}

/// Saves a new node, within the per-account limit.
async fn create(
    server: &Server,
    user: User<'_>,
    node: &str,
    config: &NodeConfig,
) -> Result<(), Failure> {
    if server.storage.pep_nodes(user).await?.len() >= pubsub::MAX_NODES_PER_ACCOUNT {
        return Err(PubSubError::TooManyNodes.into());
    }
    Ok(save(server, user, node, config).await?)
}

async fn save(
    server: &Server,
    user: User<'_>,
    node: &str,
    config: &NodeConfig,
) -> Result<(), xmppd_storage::StorageError> {
    server
        .storage
        .set_pep_node(user, node, &to_stored(config))
        .await
}

/// Stores an item and notifies everyone who wants it.
async fn publish(
    server: &Server,
    owner: &BareJid,
    user: User<'_>,
    node: &str,
    config: &NodeConfig,
    id: &str,
    payload: Element,
) -> Result<(), xmppd_storage::StorageError> {
    let item = PepItem {
        id: id.to_owned(),
        xml: String::from(&payload),
    };
    server
        .storage
        .publish_pep_item(user, node, &item, config.items_kept())
        .await?;
    let targets = notify::recipients(server, owner, user, node, config).await;
    notify::published(server, owner, &targets, node, id, &payload);
    Ok(())
}

async fn retract(
    server: &Server,
    owner: &BareJid,
    user: User<'_>,
    node: &str,
    config: &NodeConfig,
    id: &str,
    notify: bool,
) -> Result<(), Failure> {
    if !server.storage.retract_pep_item(user, node, id).await? {
        return Err(PubSubError::NotFound.into());
    }
    if notify {
        let targets = notify::recipients(server, owner, user, node, config).await;
        notify::retracted(server, owner, &targets, node, id);
    }
    Ok(())
}

/// Publishes to a node the server manages for the user (conversions), creating it with
/// `config` when it does not exist.
async fn publish_internal(
    server: &Server,
    owner: &BareJid,
    user: User<'_>,
    node: &str,
    config: NodeConfig,
    id: &str,
    payload: Element,
) -> Result<(), xmppd_storage::StorageError> {
    let config = match load(server, user, node).await? {
        Some(existing) => existing,
        None => {
            save(server, user, node, &config).await?;
            config
        }
    };
    publish(server, owner, user, node, &config, id, payload).await
}

/// A client's available presence: the account's photo hash goes into it (XEP-0398), and its
/// caps say which notifications it wants (the last items are sent when they are new).
pub async fn on_available(
    server: &Server,
    session: &super::Session,
    mut presence: xmpp_parsers::presence::Presence,
) -> xmpp_parsers::presence::Presence {
    if server.enabled(xmppd_config::Module::Pep) {
        convert::stamp_presence(server, &session.bare(), &mut presence).await;
        caps::on_available(server, session.jid(), &presence).await;
    }
    presence
}
