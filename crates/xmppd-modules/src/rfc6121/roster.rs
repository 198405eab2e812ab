//! RFC 6121 §2: roster management (get, set, push) and XEP-0237 roster versioning.

use std::collections::BTreeSet;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::roster::{Group, Item, Roster, Subscription};

use super::subscription::{ContactState, Kind, PresenceToContact};
use crate::Error;

/// Server-configured limits of RFC 6121 §2.3.3 (bytes of UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted `name` attribute.
    pub max_name_len: usize,
    /// Longest accepted `<group/>` name.
    pub max_group_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // Generous enough for any client; small enough that a roster cannot be used as storage.
        Limits {
            max_name_len: 1023,
            max_group_len: 1023,
        }
    }
}

/// One stored roster item as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The contact.
    pub jid: BareJid,
    /// The user's handle for the contact.
    pub name: Option<String>,
    /// Groups, without duplicates.
    pub groups: Vec<String>,
    /// Subscription state and pre-approval.
    pub contact: ContactState,
}

impl Entry {
    /// The `<item/>` the client sees: subscription, ask and approved derived from the state.
    pub fn to_item(&self) -> Item {
        Item {
            jid: self.jid.clone(),
            name: self.name.clone(),
            subscription: self.contact.state.subscription(),
            ask: self.contact.state.ask(),
            groups: self.groups.iter().cloned().map(Group).collect(),
            approved: self.contact.approved.then_some(true),
        }
    }
}

/// A validated roster set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterSet {
    /// Add the item or update its name and groups (state is not the client's to set).
    Update {
        /// The contact.
        jid: BareJid,
        /// New handle.
        name: Option<String>,
        /// New groups (replace the old ones).
        groups: Vec<String>,
    },
    /// `subscription='remove'` (§2.5): delete the item and cancel both subscriptions.
    Remove(BareJid),
}

/// Parse and validate the payload of a roster set from `user` (RFC 6121 §2.3.3, §2.5).
pub fn parse_set(user: &BareJid, payload: Element, limits: &Limits) -> Result<RosterSet, Error> {
    let query = Roster::try_from(payload).map_err(|e| Error::ParsePayload {
        what: "jabber:iq:roster query",
        reason: e.to_string(),
    })?;
    validate_set(user, &query, limits)
}

/// Validate a parsed roster set. A `subscription` other than `remove` is ignored and so is
/// `ask` (§2.1.2.5, §2.1.2.2: the state belongs to the server).
pub fn validate_set(user: &BareJid, query: &Roster, limits: &Limits) -> Result<RosterSet, Error> {
    let [item] = query.items.as_slice() else {
        return Err(Error::RosterSetItemCount(query.items.len()));
    };
    if &item.jid == user {
        return Err(Error::RosterSetOwnJid);
    }
    if item.subscription == Subscription::Remove {
        return Ok(RosterSet::Remove(item.jid.clone()));
    }
    if let Some(name) = &item.name
        && name.len() > limits.max_name_len
    {
        return Err(Error::RosterSetNameTooLong {
            len: name.len(),
            max: limits.max_name_len,
        });
    }
    let mut seen = BTreeSet::new();
    for Group(group) in &item.groups {
        if group.is_empty() {
            return Err(Error::RosterSetEmptyGroup);
        }
        if group.len() > limits.max_group_len {
            return Err(Error::RosterSetGroupTooLong {
                len: group.len(),
                max: limits.max_group_len,
            });
        }
        if !seen.insert(group.as_str()) {
            return Err(Error::RosterSetDuplicateGroup(group.clone()));
        }
    }
    Ok(RosterSet::Update {
        jid: item.jid.clone(),
        name: item.name.clone(),
        groups: item.groups.iter().map(|Group(g)| g.clone()).collect(),
    })
}

/// What removing a contact from the roster sends to that contact (RFC 6121 §2.5.2): cancel
/// our subscription or request (`unsubscribe`), cancel or deny theirs (`unsubscribed`), and
/// `unavailable` from each available resource when they were receiving our presence.
pub fn on_remove(contact: ContactState) -> (Vec<Kind>, PresenceToContact) {
    let s = contact.state;
    let mut kinds = Vec::new();
    if s.has_to() || s.pending_out() {
        kinds.push(Kind::Unsubscribe);
    }
    if s.has_from() || s.pending_in() {
        kinds.push(Kind::Unsubscribed);
    }
    let presence = if s.has_from() {
        PresenceToContact::Unavailable
    } else {
        PresenceToContact::Nothing
    };
    (kinds, presence)
}

/// The payload of the result to a roster get (RFC 6121 §2.2, XEP-0237 / RFC 6121 §2.6).
///
/// A client that sends the current `ver` gets an empty result (`None`): it already has the
/// roster and will receive pushes. Any other `ver` gets the full roster with the current
/// version; a client without `ver` does not support versioning and gets no `ver` back.
pub fn answer_get(
    client_ver: Option<&str>,
    current_ver: &str,
    entries: &[Entry],
) -> Option<Roster> {
    match client_ver {
        Some(ver) if ver == current_ver => None,
        Some(_) => Some(Roster {
            ver: Some(current_ver.to_owned()),
            items: entries.iter().map(Entry::to_item).collect(),
        }),
        None => Some(Roster {
            ver: None,
            items: entries.iter().map(Entry::to_item).collect(),
        }),
    }
}

/// The roster push for a changed item (§2.1.6), with the version it produced.
pub fn push(entry: &Entry, ver: &str) -> Roster {
    Roster {
        ver: Some(ver.to_owned()),
        items: vec![entry.to_item()],
    }
}

/// The roster push for a removed item (§2.5.2): `subscription='remove'`.
pub fn push_removal(jid: &BareJid, ver: &str) -> Roster {
    let item = Item {
        jid: jid.clone(),
        name: None,
        subscription: Subscription::Remove,
        ask: Default::default(),
        groups: Vec::new(),
        approved: None,
    };
    Roster {
        ver: Some(ver.to_owned()),
        items: vec![item],
    }
}

/// The push IQ to one interested resource. No `from`: it comes from the account itself.
pub fn push_iq(to: &FullJid, id: impl Into<String>, push: Roster) -> Iq {
    Iq::from_set(id, push).with_to(Jid::from(to.clone()))
}

#[cfg(test)]
#[path = "roster_tests.rs"]
mod tests;
