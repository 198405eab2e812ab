//! XEP-0191 blocking and XEP-0016 privacy lists on one engine: what a stanza between two
//! accounts comes to under the sender's and the recipient's rules, and the IQs that change
//! the rules. The rules of an account are read once and kept in memory, so the check on the
//! delivery path costs a map lookup.

use super::{Session, route, send_element};
use crate::server::Server;
use jid::{BareJid, Jid};
use minidom::Element;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::presence::{Presence, Type as PresenceType};
use xmpp_parsers::stanza_error::StanzaError;
use xmppd_config::Module;
use xmppd_modules::xep0016_privacy::{self as privacy, Action, Contact, Kind, List};
use xmppd_modules::{Error, xep0191_blocking as blocking};
use xmppd_storage::{Blocking, Subscription as StoredSubscription};

/// Accounts whose rules are kept in memory before the cache starts over.
const CACHE: usize = 10_000;

/// One account's blocklist and privacy lists.
#[derive(Debug, Default)]
struct Rules {
    blocked: Vec<Jid>,
    blocklist: List,
    lists: Vec<List>,
    default: Option<String>,
}

impl Rules {
    fn list(&self, name: &str) -> Option<&List> {
        self.lists.iter().find(|l| l.name == name)
    }
}

/// The rules cache, shared by every session.
#[derive(Debug, Default)]
pub struct Blocks {
    cache: Mutex<HashMap<BareJid, Arc<Rules>>>,
}

/// What happens to a stanza.
#[derive(Debug)]
pub enum Verdict {
    /// Deliver it.
    Pass,
    /// Drop it silently.
    Drop,
    /// Answer the sender with this error.
    Refuse(Box<StanzaError>),
}

async fn load(server: &Server, bare: &BareJid) -> Arc<Rules> {
    if let Some(rules) = server
        .blocks
        .cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(bare)
    {
        return rules.clone();
    }
    let mut rules = Rules::default();
    if let Some(user) = server.local_user(bare) {
        match server.storage.blocklist(user).await {
            Ok(jids) => rules.blocked = jids.iter().filter_map(|j| Jid::new(j).ok()).collect(),
            Err(err) => tracing::warn!(%err, "reading a blocklist failed"),
        }
        match server.storage.privacy_lists(user).await {
            Ok(lists) => {
                for stored in lists {
                    let parsed = stored
                        .xml
                        .parse::<Element>()
                        .ok()
                        .and_then(|el| privacy::parse_list(&el).ok());
                    if let Some(list) = parsed {
                        if stored.is_default {
                            rules.default = Some(list.name.clone());
                        }
                        rules.lists.push(list);
                    }
                }
            }
            Err(err) => tracing::warn!(%err, "reading privacy lists failed"),
        }
    }
    rules.blocklist = blocking::as_list(&rules.blocked);
    store(server, bare, rules)
}

fn store(server: &Server, bare: &BareJid, rules: Rules) -> Arc<Rules> {
    let rules = Arc::new(rules);
    let mut cache = server
        .blocks
        .cache
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if cache.len() >= CACHE {
        cache.clear();
    }
    cache.insert(bare.clone(), rules.clone());
    rules
}

fn forget(server: &Server, bare: &BareJid) {
    server
        .blocks
        .cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(bare);
}

/// The privacy list that applies to `jid`'s account: the session's active list when `jid` is
/// one of its sessions with an active list, else the default.
fn effective<'a>(server: &Server, rules: &'a Rules, jid: &Jid) -> Option<&'a List> {
    if rules.lists.is_empty() {
        return None;
    }
    let active = jid.try_as_full().ok().and_then(|full| {
        server
            .router
            .sessions(&jid.to_bare())
            .iter()
            .find(|s| &s.jid == full)
            .and_then(|s| s.presence().privacy_active)
    });
    active
        .or(rules.default.clone())
        .and_then(|name| rules.list(&name))
}

async fn decide(server: &Server, owner: &BareJid, list: &List, other: &Jid, kind: Kind) -> Action {
    let (mut groups, mut subscription) = (Vec::new(), privacy::Subscription::None);
    if privacy::needs_roster(list)
        && let Some(user) = server.local_user(owner)
        && let Ok((_, Some(item))) = super::roster::contact(server, user, &other.to_bare()).await
    {
        groups = item.groups;
        subscription = match item.subscription {
            StoredSubscription::None => privacy::Subscription::None,
            StoredSubscription::To => privacy::Subscription::To,
            StoredSubscription::From => privacy::Subscription::From,
            StoredSubscription::Both => privacy::Subscription::Both,
        };
    }
    let contact = Contact {
        jid: other,
        groups: &groups,
        subscription,
    };
    privacy::decide(list, &contact, kind)
}

/// The verdict on a stanza from `from` to the local account `to`, under the sender's rules
/// (when the sender is local) and then the recipient's. Errors always pass (a bounce must
/// reach its sender), and so does anything within one account.
pub async fn check(server: &Server, stanza: &Element, to: &Jid) -> Verdict {
    if stanza.attr("type") == Some("error")
        || !(server.enabled(Module::Blocking) || server.enabled(Module::Privacy))
    {
        return Verdict::Pass;
    }
    let Some(from) = stanza.attr("from").and_then(|f| Jid::new(f).ok()) else {
        return Verdict::Pass;
    };
    let (sender, recipient) = (from.to_bare(), to.to_bare());
    if sender == recipient {
        return Verdict::Pass;
    }
    let is_presence = stanza.is("presence", ns::DEFAULT_NS);
    let kind_in = if is_presence {
        Kind::PresenceIn
    } else if stanza.is("iq", ns::DEFAULT_NS) {
        Kind::Iq
    } else {
        Kind::Message
    };
    if server.local_user(&sender).is_some() {
        let rules = load(server, &sender).await;
        if privacy::decide(&rules.blocklist, &unknown(to), kind_in) == Action::Deny {
            return if is_presence {
                Verdict::Drop
            } else {
                Verdict::Refuse(Box::new(blocking::blocked_error()))
            };
        }
        if let Some(list) = is_presence
            .then(|| effective(server, &rules, &from))
            .flatten()
            && decide(server, &sender, list, to, Kind::PresenceOut).await == Action::Deny
        {
            return Verdict::Drop;
        }
    }
    let rules = load(server, &recipient).await;
    let mut denied = privacy::decide(&rules.blocklist, &unknown(&from), kind_in) == Action::Deny;
    if !denied && let Some(list) = effective(server, &rules, to) {
        denied = decide(server, &recipient, list, &from, kind_in).await == Action::Deny;
    }
    if !denied {
        return Verdict::Pass;
    }
    // XEP-0191 §3.5 / XEP-0016 §2.11: requests get service-unavailable, the rest vanishes.
    if matches!(stanza.attr("type"), Some("get" | "set")) && kind_in == Kind::Iq {
        Verdict::Refuse(Box::new(xmppd_modules::stanza_error::make(
            xmpp_parsers::stanza_error::ErrorType::Cancel,
            xmpp_parsers::stanza_error::DefinedCondition::ServiceUnavailable,
            None,
        )))
    } else {
        Verdict::Drop
    }
}

/// A contact known only by JID (for blocklists, which never look at the roster).
fn unknown(jid: &Jid) -> Contact<'_> {
    Contact {
        jid,
        groups: &[],
        subscription: privacy::Subscription::None,
    }
}

fn push_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("block{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Sends `payload` as an IQ set to the account's sessions (`only_interested`: those that
/// fetched the blocklist).
fn push(server: &Server, bare: &BareJid, payload: &Element, only_interested: bool) {
    for session in server.router.sessions(bare) {
        if only_interested && !session.presence().blocklist {
            continue;
        }
        let iq = Iq::Set {
            from: None,
            to: Some(Jid::from(session.jid.clone())),
            id: push_id(),
            payload: payload.clone(),
        };
        send_element(&session, &iq.into());
    }
}

/// `urn:xmpp:blocking` get and set from the user's own session.
pub async fn blocking_iq(
    server: &Arc<Server>,
    session: &Session,
    is_set: bool,
    payload: Element,
) -> Result<Option<Element>, Option<Error>> {
    let bare = session.bare();
    let user = server.local_user(&bare).ok_or(None)?;
    let rules = load(server, &bare).await;
    match blocking::parse(&payload, is_set).map_err(Some)? {
        blocking::Request::Get => {
            session.handle.update_presence(|p| p.blocklist = true);
            Ok(Some(blocking::blocklist(rules.blocked.clone())))
        }
        blocking::Request::Block(jids) => {
            let new: Vec<Jid> = jids
                .into_iter()
                .filter(|j| !rules.blocked.contains(j))
                .collect();
            if rules.blocked.len() + new.len() > blocking::MAX_BLOCKED {
                return Err(Some(Error::BlockingBadRequest(format!(
                    "at most {} blocked JIDs",
                    blocking::MAX_BLOCKED
                ))));
            }
            // §3.3: the blocked contact sees the user go offline, before the block stops it.
            for session in server.router.sessions(&bare) {
                if session.presence().last.is_none() {
                    continue;
                }
                for jid in &new {
                    let mut gone = Presence::new(PresenceType::Unavailable);
                    gone.from = Some(Jid::from(session.jid.clone()));
                    gone.to = Some(jid.clone());
                    route(server, gone.into()).await;
                }
            }
            let names: Vec<String> = new.iter().map(Jid::to_string).collect();
            server.storage.block(user, &names).await.map_err(|_| None)?;
            forget(server, &bare);
            push(server, &bare, &blocking::push_block(new), true);
            Ok(None)
        }
        blocking::Request::Unblock(jids) => {
            let names: Vec<String> = jids.iter().map(Jid::to_string).collect();
            server
                .storage
                .unblock(user, &names)
                .await
                .map_err(|_| None)?;
            forget(server, &bare);
            push(server, &bare, &blocking::push_unblock(jids), true);
            Ok(None)
        }
    }
}

/// `jabber:iq:privacy` get and set from the user's own session.
pub async fn privacy_iq(
    server: &Arc<Server>,
    session: &Session,
    is_set: bool,
    payload: Element,
) -> Result<Option<Element>, Option<Error>> {
    let bare = session.bare();
    let user = server.local_user(&bare).ok_or(None)?;
    let rules = load(server, &bare).await;
    match privacy::parse(&payload, is_set).map_err(Some)? {
        privacy::Request::Names => {
            let names: Vec<String> = rules.lists.iter().map(|l| l.name.clone()).collect();
            let active = session.handle.presence().privacy_active;
            Ok(Some(privacy::names_answer(
                &names,
                active.as_deref(),
                rules.default.as_deref(),
            )))
        }
        privacy::Request::Get(name) => rules
            .list(&name)
            .map(|l| Some(privacy::list_answer(l)))
            .ok_or(Some(Error::PrivacyUnknownList(name))),
        privacy::Request::SetActive(name) => {
            if let Some(name) = &name
                && rules.list(name).is_none()
            {
                return Err(Some(Error::PrivacyUnknownList(name.clone())));
            }
            session.handle.update_presence(|p| p.privacy_active = name);
            Ok(None)
        }
        privacy::Request::SetDefault(name) => {
            if let Some(name) = &name
                && rules.list(name).is_none()
            {
                return Err(Some(Error::PrivacyUnknownList(name.clone())));
            }
            server
                .storage
                .set_default_privacy_list(user, name.as_deref())
                .await
                .map_err(|_| None)?;
            forget(server, &bare);
            Ok(None)
        }
        privacy::Request::Edit(list) => {
            if rules.list(&list.name).is_none() && rules.lists.len() >= privacy::MAX_LISTS {
                return Err(Some(Error::PrivacyBadRequest(format!(
                    "at most {} lists",
                    privacy::MAX_LISTS
                ))));
            }
            let xml = String::from(&privacy::list_element(&list));
            server
                .storage
                .set_privacy_list(user, &list.name, &xml)
                .await
                .map_err(|_| None)?;
            forget(server, &bare);
            push(server, &bare, &privacy::push(&list.name), false);
            Ok(None)
        }
        privacy::Request::Remove(name) => {
            let in_use = rules.default.as_deref() == Some(name.as_str())
                || server
                    .router
                    .sessions(&bare)
                    .iter()
                    .any(|s| s.presence().privacy_active.as_deref() == Some(name.as_str()));
            if in_use {
                return Err(Some(Error::PrivacyListInUse(name)));
            }
            if !server
                .storage
                .remove_privacy_list(user, &name)
                .await
                .map_err(|_| None)?
            {
                return Err(Some(Error::PrivacyUnknownList(name)));
            }
            forget(server, &bare);
            Ok(None)
        }
    }
}
