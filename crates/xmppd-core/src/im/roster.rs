//! Roster management (RFC 6121 §2) with versioning (XEP-0237), and the contact state the
//! subscription and presence rules read and write.

use super::{Session, send_element};
use crate::server::Server;
use jid::{BareJid, Jid};
use std::collections::BTreeSet;
use std::sync::Arc;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::roster::Roster;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xmppd_modules::rfc6121::roster::{self as rules, Entry, RosterSet};
use xmppd_modules::rfc6121::subscription::{ContactState, State};
use xmppd_storage::{RosterItem, Rosters, StorageError, Subscription, User};

/// A user's contacts with their subscription state, including requests not yet in the roster.
pub async fn contacts(server: &Server, user: User<'_>) -> Result<Vec<Entry>, StorageError> {
    let roster = server.storage.roster(user).await?;
    let pending: BTreeSet<String> = server
        .storage
        .pending_in(user)
        .await?
        .into_iter()
        .map(|p| p.contact)
        .collect();
    let mut entries: Vec<Entry> = roster
        .items
        .iter()
        .filter_map(|item| entry_of(item, pending.contains(&item.jid)))
        .collect();
    for contact in &pending {
        if roster.items.iter().any(|i| &i.jid == contact) {
            continue;
        }
        if let Ok(jid) = BareJid::new(contact) {
            entries.push(Entry {
                jid,
                name: None,
                groups: Vec::new(),
                contact: ContactState::new(State::NonePendingIn),
            });
        }
    }
    Ok(entries)
}

fn entry_of(item: &RosterItem, pending_in: bool) -> Option<Entry> {
    let (to, from) = match item.subscription {
        Subscription::None => (false, false),
        Subscription::To => (true, false),
        Subscription::From => (false, true),
        Subscription::Both => (true, true),
    };
    let state = State::from_flags(to, from, item.ask && !to, pending_in && !from)?;
    Some(Entry {
        jid: BareJid::new(&item.jid).ok()?,
        name: item.name.clone(),
        groups: item.groups.clone(),
        contact: ContactState {
            state,
            approved: item.approved,
        },
    })
}

/// The state of one contact, and its roster item if it has one.
pub async fn contact(
    server: &Server,
    user: User<'_>,
    contact: &BareJid,
) -> Result<(ContactState, Option<RosterItem>), StorageError> {
    let item = server.storage.roster_item(user, contact.as_str()).await?;
    let pending = server
        .storage
        .pending_in(user)
        .await?
        .iter()
        .any(|p| p.contact == contact.as_str());
    let state = match &item {
        Some(item) => entry_of(item, pending)
            .map(|e| e.contact)
            .unwrap_or_default(),
        None if pending => ContactState::new(State::NonePendingIn),
        None => ContactState::default(),
    };
    Ok((state, item))
}

/// Stores a contact's new state; returns the entry to push when the visible item changed.
pub async fn store_contact(
    server: &Server,
    user: User<'_>,
    contact: &BareJid,
    old_item: Option<&RosterItem>,
    new: ContactState,
    pending_stanza: Option<&str>,
) -> Result<Option<(Entry, String)>, StorageError> {
    if new.state.pending_in() {
        if let Some(stanza) = pending_stanza {
            server
                .storage
                .set_pending_in(user, contact.as_str(), stanza)
                .await?;
        }
    } else {
        server
            .storage
            .remove_pending_in(user, contact.as_str())
            .await?;
    }
    let subscription = match (new.state.has_to(), new.state.has_from()) {
        (false, false) => Subscription::None,
        (true, false) => Subscription::To,
        (false, true) => Subscription::From,
        (true, true) => Subscription::Both,
    };
    let item = RosterItem {
        jid: contact.to_string(),
        name: old_item.and_then(|i| i.name.clone()),
        groups: old_item.map(|i| i.groups.clone()).unwrap_or_default(),
        subscription,
        ask: new.state.pending_out(),
        approved: new.approved,
    };
    // A contact only known by a pending request gets no roster item (RFC 6121 §3.1.3).
    let visible = subscription != Subscription::None || item.ask || item.approved;
    if old_item.is_none() && !visible {
        return Ok(None);
    }
    if old_item == Some(&item) {
        return Ok(None);
    }
    let version = server.storage.upsert_roster_item(user, &item).await?;
    let entry = Entry {
        jid: contact.clone(),
        name: item.name,
        groups: item.groups,
        contact: new,
    };
    Ok(Some((entry, version.to_string())))
}

/// Sends a roster push to every resource of `bare` that asked for the roster (§2.1.6).
pub fn push(server: &Server, bare: &BareJid, push: Roster) {
    for session in server.router.sessions(bare) {
        if session.presence().interested {
            let iq = rules::push_iq(&session.jid, push_id(), push.clone());
            send_element(&session, &iq.into());
        }
    }
}

fn push_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("push{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Handles `jabber:iq:roster` get and set from the user's own session.
pub async fn handle(server: &Arc<Server>, session: &Session, iq: Iq) -> Result<Option<Iq>, Iq> {
    let bare = session.bare();
    let Some(user) = server.local_user(&bare) else {
        return Err(super::iq::error_with(
            &iq,
            ErrorType::Cancel,
            DefinedCondition::NotAllowed,
        ));
    };
    let internal = |iq: &Iq| super::iq::internal_error(iq);
    match &iq {
        Iq::Get { payload, .. } => {
            let client_ver = payload.attr("ver").map(str::to_owned);
            let entries = contacts(server, user).await.map_err(|_| internal(&iq))?;
            let version = server
                .storage
                .roster_version(user)
                .await
                .map_err(|_| internal(&iq))?;
            let visible: Vec<Entry> = entries
                .into_iter()
                .filter(|e| e.contact.state != State::NonePendingIn)
                .collect();
            session.handle.update_presence(|p| p.interested = true);
            let answer = rules::answer_get(client_ver.as_deref(), &version.to_string(), &visible);
            Ok(xmppd_modules::iq::result(&iq, answer.map(Into::into)))
        }
        Iq::Set { payload, .. } => {
            let set = rules::parse_set(&bare, payload.clone(), &rules::Limits::default())
                .map_err(|e| super::iq::error_reply(&iq, &e))?;
            match set {
                RosterSet::Update { jid, name, groups } => {
                    let (state, old) = contact(server, user, &jid)
                        .await
                        .map_err(|_| internal(&iq))?;
                    let item = RosterItem {
                        jid: jid.to_string(),
                        name,
                        groups,
                        subscription: old.as_ref().map(|o| o.subscription).unwrap_or_default(),
                        ask: old.as_ref().is_some_and(|o| o.ask),
                        approved: old.as_ref().is_some_and(|o| o.approved),
                    };
                    let version = server
                        .storage
                        .upsert_roster_item(user, &item)
                        .await
                        .map_err(|_| internal(&iq))?;
                    let entry = Entry {
                        jid,
                        name: item.name,
                        groups: item.groups,
                        contact: state,
                    };
                    push(server, &bare, rules::push(&entry, &version.to_string()));
                }
                RosterSet::Remove(jid) => {
                    let (state, old) = contact(server, user, &jid)
                        .await
                        .map_err(|_| internal(&iq))?;
                    if old.is_none() {
                        return Err(super::iq::error_with(
                            &iq,
                            ErrorType::Cancel,
                            DefinedCondition::ItemNotFound,
                        ));
                    }
                    let version = server
                        .storage
                        .remove_roster_item(user, jid.as_str())
                        .await
                        .map_err(|_| internal(&iq))?;
                    let _ = server.storage.remove_pending_in(user, jid.as_str()).await;
                    push(
                        server,
                        &bare,
                        rules::push_removal(&jid, &version.to_string()),
                    );
                    // Removing an item cancels both subscriptions (RFC 6121 §2.5.2).
                    super::presence::cancel_both(server, &bare, &jid, state).await;
                }
            }
            Ok(xmppd_modules::iq::result(&iq, None))
        }
        _ => Ok(None),
    }
}

/// A presence from the user's bare JID to a contact.
pub fn from_bare(
    bare: &BareJid,
    to: &BareJid,
    type_: xmpp_parsers::presence::Type,
) -> minidom::Element {
    xmpp_parsers::presence::Presence::new(type_)
        .with_from(Jid::from(bare.clone()))
        .with_to(Jid::from(to.clone()))
        .into()
}
