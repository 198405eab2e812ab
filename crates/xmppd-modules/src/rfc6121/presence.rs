//! RFC 6121 §4: presence broadcast, directed presence and probes, and the role of priority.

use std::collections::BTreeSet;

use jid::{BareJid, FullJid, Jid};
use xmpp_parsers::presence::{Presence, Type as PresenceType};

use super::subscription::ContactState;

/// One connected resource of an account, as the session layer sees it right now.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSnapshot {
    /// The bound full JID.
    pub jid: FullJid,
    /// The last available presence the resource broadcast; `None` while it is only connected
    /// (no initial presence yet, or it sent `unavailable`).
    pub presence: Option<Presence>,
}

impl ResourceSnapshot {
    /// Sent initial presence and is not unavailable: an "available resource" (§4.1).
    pub fn is_available(&self) -> bool {
        self.presence.is_some()
    }

    /// The resource's priority; a connected-only resource has none.
    pub fn priority(&self) -> Option<i8> {
        self.presence.as_ref().map(|p| p.priority.0)
    }

    /// Counts for messages to the bare JID: available with a non-negative priority (§4.7.2.3:
    /// a negative priority means "never deliver to me unless addressed by full JID").
    pub fn receives_bare_messages(&self) -> bool {
        self.priority().is_some_and(|p| p >= 0)
    }
}

/// Who receives a presence broadcast from one of the user's resources, and what else to do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BroadcastPlan {
    /// Contacts (bare JIDs, or full JIDs for directed recipients) that get the stanza.
    pub contacts: Vec<Jid>,
    /// The user's own resources that get the stanza (§4.2.2, §4.4.2).
    pub own_resources: Vec<FullJid>,
    /// Initial presence only: contacts to probe, those the user has To/Both with (§4.2.2).
    pub probes: Vec<BareJid>,
    /// Initial presence only: other available resources whose last presence the new resource
    /// receives (§4.2.2).
    pub others_to_sender: Vec<FullJid>,
    /// Unavailable only: the directed-presence list to forget afterwards.
    pub clear_directed: bool,
}

/// Contacts with From/Both: the user's presence subscribers.
fn subscribers<'a>(roster: impl IntoIterator<Item = (&'a BareJid, ContactState)>) -> Vec<BareJid> {
    roster
        .into_iter()
        .filter(|(_, c)| c.state.has_from())
        .map(|(j, _)| j.clone())
        .collect()
}

/// A broadcast of available presence (no `to`) from `sender` (§4.2.2 initial, §4.4.2 update).
///
/// Directed-presence recipients are not included: RFC 6121 §4.6.3 says later broadcasts do
/// not reach them, only the final `unavailable` does.
pub fn on_available<'a>(
    sender: &FullJid,
    sessions: &[ResourceSnapshot],
    roster: impl IntoIterator<Item = (&'a BareJid, ContactState)> + Clone,
) -> BroadcastPlan {
    let initial = !sessions
        .iter()
        .any(|s| &s.jid == sender && s.is_available());
    let available = sessions
        .iter()
        .filter(|s| s.is_available() || &s.jid == sender);
    let mut plan = BroadcastPlan {
        contacts: subscribers(roster.clone())
            .into_iter()
            .map(Jid::from)
            .collect(),
        own_resources: available.map(|s| s.jid.clone()).collect(),
        ..BroadcastPlan::default()
    };
    if initial {
        plan.probes = roster
            .into_iter()
            .filter(|(_, c)| c.state.has_to())
            .map(|(j, _)| j.clone())
            .collect();
        plan.others_to_sender = sessions
            .iter()
            .filter(|s| s.is_available() && &s.jid != sender)
            .map(|s| s.jid.clone())
            .collect();
    }
    plan
}

/// A broadcast of unavailable presence from `sender` (§4.5.2): subscribers, every entity that
/// got directed presence and is not already covered by the subscriber broadcast, and the
/// user's other available resources.
pub fn on_unavailable<'a>(
    sender: &FullJid,
    sessions: &[ResourceSnapshot],
    roster: impl IntoIterator<Item = (&'a BareJid, ContactState)>,
    directed: &BTreeSet<Jid>,
) -> BroadcastPlan {
    let subscribers = subscribers(roster);
    let covered: BTreeSet<&BareJid> = subscribers.iter().collect();
    let mut contacts: Vec<Jid> = subscribers.iter().cloned().map(Jid::from).collect();
    contacts.extend(
        directed
            .iter()
            .filter(|j| !covered.contains(&j.to_bare()))
            .cloned(),
    );
    BroadcastPlan {
        contacts,
        own_resources: sessions
            .iter()
            .filter(|s| s.is_available() && &s.jid != sender)
            .map(|s| s.jid.clone())
            .collect(),
        clear_directed: true,
        ..BroadcastPlan::default()
    }
}

/// How a directed presence (one with a `to`) changes the directed-presence list (§4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectedChange {
    /// Remember the recipient: it must get `unavailable` when the user goes offline.
    Add,
    /// Forget the recipient: it got `unavailable` already.
    Remove,
    /// Nothing to track (a subscriber, who hears the broadcast anyway, or another type).
    Unchanged,
}

/// Track a directed presence of `type_` sent to `to`, given the contact's state if any.
pub fn directed(to: &Jid, type_: &PresenceType, contact: Option<ContactState>) -> DirectedChange {
    let subscriber = contact.is_some_and(|c| c.state.has_from()) && to.is_bare();
    match type_ {
        PresenceType::None if !subscriber => DirectedChange::Add,
        PresenceType::Unavailable => DirectedChange::Remove,
        _ => DirectedChange::Unchanged,
    }
}

/// The answer to an inbound probe (§4.3.2).
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeAnswer {
    /// The prober has no subscription (or the account does not exist): reveal nothing, reply
    /// `unsubscribed` so a stale "To" on the prober's side is corrected.
    Unsubscribed,
    /// Subscribed, but no resource is available: one `unavailable` from the bare JID.
    Unavailable,
    /// The last presence of each available resource, from its full JID.
    Presences(Vec<Presence>),
}

/// Decide the answer to a probe from `prober` for `user`. `contact` is the prober's entry in
/// the user's roster; a probe from the user's own account is always answered.
pub fn answer_probe(
    user: &BareJid,
    prober: &BareJid,
    contact: Option<ContactState>,
    sessions: &[ResourceSnapshot],
) -> ProbeAnswer {
    let allowed = prober == user || contact.is_some_and(|c| c.state.has_from());
    if !allowed {
        return ProbeAnswer::Unsubscribed;
    }
    let presences: Vec<Presence> = sessions
        .iter()
        .filter_map(|s| {
            let mut p = s.presence.clone()?;
            p.from = Some(s.jid.clone().into());
            p.to = None;
            Some(p)
        })
        .collect();
    if presences.is_empty() {
        ProbeAnswer::Unavailable
    } else {
        ProbeAnswer::Presences(presences)
    }
}

impl ProbeAnswer {
    /// The stanzas to send, addressed from `user` to `to` (the probe's sender).
    pub fn stanzas(&self, user: &BareJid, to: &Jid) -> Vec<Presence> {
        let from_bare = |t: PresenceType| {
            Presence::new(t)
                .with_from(Jid::from(user.clone()))
                .with_to(to.clone())
        };
        match self {
            ProbeAnswer::Unsubscribed => vec![from_bare(PresenceType::Unsubscribed)],
            ProbeAnswer::Unavailable => vec![from_bare(PresenceType::Unavailable)],
            ProbeAnswer::Presences(list) => list
                .iter()
                .cloned()
                .map(|p| p.with_to(to.clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
#[path = "presence_tests.rs"]
mod tests;
