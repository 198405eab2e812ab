//! RFC 6121 rosters with XEP-0237 roster versioning.
//!
//! Each account has a counter bumped on every roster change; a changed item records the new
//! value, a removed one leaves a tombstone with it, so "changes since V" is a range query.
//! Pending inbound subscription requests (RFC 6121 3.1.3) are part of this trait but stored
//! apart from items (see `pending.rs`): the asking contact need not be in the roster.

use std::fmt;
use std::future::Future;

use crate::{PendingIn, Result, User};

mod store;

/// Subscription state of a roster item (RFC 6121 2.1.2.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Subscription {
    /// No subscription either way.
    #[default]
    None,
    /// The user receives the contact's presence.
    To,
    /// The contact receives the user's presence.
    From,
    /// Both ways.
    Both,
}

impl Subscription {
    /// The attribute value, also the stored value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::To => "to",
            Self::From => "from",
            Self::Both => "both",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [Self::None, Self::To, Self::From, Self::Both]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

/// One roster item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RosterItem {
    /// Contact bare JID, normalised by the caller.
    pub jid: String,
    /// Handle the user gave the contact.
    pub name: Option<String>,
    /// Groups, sorted and without duplicates when read back.
    pub groups: Vec<String>,
    /// Subscription state.
    pub subscription: Subscription,
    /// Outbound subscription request pending (`ask='subscribe'`).
    pub ask: bool,
    /// Subscription pre-approved by the user (RFC 6121 3.4).
    pub approved: bool,
}

/// XEP-0237 roster version: opaque to clients, a per-account counter here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RosterVersion(pub i64);

impl RosterVersion {
    /// Parses a client's `ver` attribute; anything we did not hand out yields `None`.
    pub fn parse(ver: &str) -> Option<Self> {
        ver.parse().ok().filter(|v| *v >= 0).map(Self)
    }
}

impl fmt::Display for RosterVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The whole roster at one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roster {
    /// Version to hand to the client.
    pub version: RosterVersion,
    /// Items sorted by JID.
    pub items: Vec<RosterItem>,
}

/// One change for a roster push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RosterChange {
    /// Item added or changed.
    Updated(RosterItem),
    /// Item removed (push it with `subscription='remove'`).
    Removed(String),
}

/// Answer to "what changed since version V" (XEP-0237 section 4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RosterDelta {
    /// V is unknown here: send the full roster.
    Full(Roster),
    /// Send these changes as pushes, oldest first; empty means the client is up to date.
    Changes {
        /// Version after the last change.
        version: RosterVersion,
        /// Changes ordered by the version that made them.
        changes: Vec<RosterChange>,
    },
}

/// Per-user rosters.
pub trait Rosters {
    /// The whole roster and its version. `NotFound` if the account does not exist.
    fn roster(&self, user: User<'_>) -> impl Future<Output = Result<Roster>> + Send;

    /// One item, if the contact is in the roster.
    fn roster_item(
        &self,
        user: User<'_>,
        contact: &str,
    ) -> impl Future<Output = Result<Option<RosterItem>>> + Send;

    /// Adds or replaces `item` (keyed by its JID); returns the new roster version.
    fn upsert_roster_item(
        &self,
        user: User<'_>,
        item: &RosterItem,
    ) -> impl Future<Output = Result<RosterVersion>> + Send;

    /// Removes the contact; returns the new version. `NotFound` if it is not in the roster.
    fn remove_roster_item(
        &self,
        user: User<'_>,
        contact: &str,
    ) -> impl Future<Output = Result<RosterVersion>> + Send;

    /// Current roster version.
    fn roster_version(&self, user: User<'_>) -> impl Future<Output = Result<RosterVersion>> + Send;

    /// Changes since `since` (the client's `ver`), or the full roster if `since` is `None`
    /// or a version this account never had.
    fn roster_changes_since(
        &self,
        user: User<'_>,
        since: Option<RosterVersion>,
    ) -> impl Future<Output = Result<RosterDelta>> + Send;

    /// Records (or replaces) an unanswered inbound subscription request (RFC 6121 3.1.3).
    /// Not a roster change: the version does not move. `NotFound` if the account is missing.
    fn set_pending_in(
        &self,
        user: User<'_>,
        contact: &str,
        stanza: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Forgets the request once answered; returns whether there was one.
    fn remove_pending_in(
        &self,
        user: User<'_>,
        contact: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// All unanswered inbound requests, sorted by contact.
    fn pending_in(&self, user: User<'_>) -> impl Future<Output = Result<Vec<PendingIn>>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parse_accepts_only_ours() {
        assert_eq!(RosterVersion::parse("42"), Some(RosterVersion(42)));
        assert_eq!(RosterVersion(42).to_string(), "42");
        assert_eq!(RosterVersion::parse(""), None);
        assert_eq!(RosterVersion::parse("-1"), None);
        assert_eq!(RosterVersion::parse("abc"), None);
    }

    #[test]
    fn subscription_round_trip() {
        for s in [
            Subscription::None,
            Subscription::To,
            Subscription::From,
            Subscription::Both,
        ] {
            assert_eq!(Subscription::parse(s.as_str()), Some(s));
        }
        assert_eq!(Subscription::parse("remove"), None);
    }
}
