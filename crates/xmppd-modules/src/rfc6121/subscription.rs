//! RFC 6121 §3 and Appendix A: the presence subscription state machine, with pre-approval (§3.4).
//!
//! The state is kept per (user, contact) pair on the user's side. [`outbound`] handles a
//! subscription stanza the user sends to a contact, [`inbound`] one a contact sends to the user.
//! Both return an [`Outcome`] saying what the server must do; the caller stores the new state,
//! pushes the roster, routes or delivers the stanza, sends the auto-reply and the presence.

use xmpp_parsers::presence::Type as PresenceType;
use xmpp_parsers::roster::{Ask, Subscription};

/// The nine subscription states of RFC 6121 Appendix A.1 ("Out" = the user asked the contact,
/// "In" = the contact asked the user). Impossible mixes such as "To + Pending Out" cannot exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum State {
    /// No subscription either way, nothing pending.
    #[default]
    None,
    /// The user asked for the contact's presence; no answer yet.
    NonePendingOut,
    /// The contact asked for the user's presence; no answer yet.
    NonePendingIn,
    /// Both asked, neither answered.
    NonePendingOutIn,
    /// The user receives the contact's presence.
    To,
    /// The user receives the contact's presence; the contact asked for the user's.
    ToPendingIn,
    /// The contact receives the user's presence.
    From,
    /// The contact receives the user's presence; the user asked for the contact's.
    FromPendingOut,
    /// Mutual subscription.
    Both,
}

impl State {
    /// Every state, in the order of the RFC's tables.
    pub const ALL: [State; 9] = [
        State::None,
        State::NonePendingOut,
        State::NonePendingIn,
        State::NonePendingOutIn,
        State::To,
        State::ToPendingIn,
        State::From,
        State::FromPendingOut,
        State::Both,
    ];

    /// Build a state from its four flags; `None` for combinations that cannot exist (a pending
    /// request in a direction that is already subscribed).
    pub fn from_flags(to: bool, from: bool, pending_out: bool, pending_in: bool) -> Option<State> {
        if (to && pending_out) || (from && pending_in) {
            return None;
        }
        Some(match (to, from, pending_out, pending_in) {
            (false, false, false, false) => State::None,
            (false, false, true, false) => State::NonePendingOut,
            (false, false, false, true) => State::NonePendingIn,
            (false, false, true, true) => State::NonePendingOutIn,
            (true, false, _, false) => State::To,
            (true, false, _, true) => State::ToPendingIn,
            (false, true, false, _) => State::From,
            (false, true, true, _) => State::FromPendingOut,
            (true, true, _, _) => State::Both,
        })
    }

    /// The user receives the contact's presence.
    pub fn has_to(self) -> bool {
        matches!(self, State::To | State::ToPendingIn | State::Both)
    }

    /// The contact receives the user's presence.
    pub fn has_from(self) -> bool {
        matches!(self, State::From | State::FromPendingOut | State::Both)
    }

    /// The user's request to the contact awaits an answer.
    pub fn pending_out(self) -> bool {
        matches!(
            self,
            State::NonePendingOut | State::NonePendingOutIn | State::FromPendingOut
        )
    }

    /// The contact's request to the user awaits an answer.
    pub fn pending_in(self) -> bool {
        matches!(
            self,
            State::NonePendingIn | State::NonePendingOutIn | State::ToPendingIn
        )
    }

    fn with(self, to: bool, from: bool, pending_out: bool, pending_in: bool) -> State {
        // Every transition below keeps the invariants, so this never falls back.
        State::from_flags(to, from, pending_out, pending_in).unwrap_or(self)
    }

    /// The `subscription` attribute of the roster item (RFC 6121 §2.1.2.5).
    pub fn subscription(self) -> Subscription {
        match (self.has_to(), self.has_from()) {
            (false, false) => Subscription::None,
            (true, false) => Subscription::To,
            (false, true) => Subscription::From,
            (true, true) => Subscription::Both,
        }
    }

    /// The `ask` attribute of the roster item (RFC 6121 §2.1.2.2): only pending-out shows.
    pub fn ask(self) -> Ask {
        if self.pending_out() {
            Ask::Subscribe
        } else {
            Ask::None
        }
    }
}

/// What the server keeps about one contact: the subscription state and the pre-approval flag
/// (RFC 6121 §3.4, shown as `approved='true'` in the roster).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ContactState {
    /// The subscription state.
    pub state: State,
    /// The user pre-approved a future subscription request from the contact.
    pub approved: bool,
}

impl ContactState {
    /// A contact in `state` without pre-approval.
    pub fn new(state: State) -> Self {
        ContactState {
            state,
            approved: false,
        }
    }

    /// What a roster item shows of this state (pending-in is invisible, §3.1.3).
    fn visible(self) -> (Subscription, Ask, bool) {
        (self.state.subscription(), self.state.ask(), self.approved)
    }
}

/// The four subscription-related presence types (RFC 6121 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `subscribe`: request.
    Subscribe,
    /// `subscribed`: approval.
    Subscribed,
    /// `unsubscribe`: the sender stops receiving presence.
    Unsubscribe,
    /// `unsubscribed`: the sender denies or cancels the peer's subscription.
    Unsubscribed,
}

impl Kind {
    /// The subscription kind of a presence type; `None` for other presence types.
    pub fn from_presence(type_: &PresenceType) -> Option<Kind> {
        match type_ {
            PresenceType::Subscribe => Some(Kind::Subscribe),
            PresenceType::Subscribed => Some(Kind::Subscribed),
            PresenceType::Unsubscribe => Some(Kind::Unsubscribe),
            PresenceType::Unsubscribed => Some(Kind::Unsubscribed),
            _ => None,
        }
    }

    /// The presence type that carries this kind.
    pub fn presence_type(self) -> PresenceType {
        match self {
            Kind::Subscribe => PresenceType::Subscribe,
            Kind::Subscribed => PresenceType::Subscribed,
            Kind::Unsubscribe => PresenceType::Unsubscribe,
            Kind::Unsubscribed => PresenceType::Unsubscribed,
        }
    }
}

/// Presence the server sends from the user's available resources to the contact after the
/// subscription change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PresenceToContact {
    /// Nothing.
    Nothing,
    /// The current presence of each available resource of the user (the contact gained From).
    Available,
    /// `unavailable` from each available resource of the user (the contact lost From).
    Unavailable,
}

/// What the server does with one subscription stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Outcome {
    /// The state to store.
    pub contact: ContactState,
    /// The visible roster item changed: store it, bump the roster version, push it to the
    /// user's interested resources (RFC 6121 §2.1.6).
    pub roster_push: bool,
    /// Outbound: route the stanza (from the user's bare JID) to the contact.
    /// Inbound: deliver it to the user's available resources.
    pub forward: bool,
    /// The server answers the contact on the user's behalf with this presence type.
    pub auto_reply: Option<Kind>,
    /// Presence to send from the user's available resources to the contact.
    pub presence: PresenceToContact,
}

impl Outcome {
    fn new(old: ContactState, new: ContactState, forward: bool) -> Self {
        let presence = match (old.state.has_from(), new.state.has_from()) {
            (false, true) => PresenceToContact::Available,
            (true, false) => PresenceToContact::Unavailable,
            _ => PresenceToContact::Nothing,
        };
        Outcome {
            contact: new,
            roster_push: old.visible() != new.visible(),
            forward,
            auto_reply: None,
            presence,
        }
    }
}

/// The user sends `kind` to the contact (RFC 6121 Appendix A.2, §3.1.2, §3.2.2, §3.3.2, §3.4).
pub fn outbound(current: ContactState, kind: Kind) -> Outcome {
    let s = current.state;
    let (to, from, out, inn) = (s.has_to(), s.has_from(), s.pending_out(), s.pending_in());
    let mut next = current;
    let forward = match kind {
        // A.2.1: ask unless already subscribed or asking. Always routed: the contact's server
        // answers an already-granted request itself.
        Kind::Subscribe => {
            next.state = s.with(to, from, out || !to, inn);
            true
        }
        // A.2.2: drops To and Pending Out. Always routed so both sides converge.
        Kind::Unsubscribe => {
            next.state = s.with(false, from, false, inn);
            true
        }
        // A.2.3: approves a pending request; with none pending, records a pre-approval (§3.4)
        // unless the contact already has From. Routed only when it approved something.
        Kind::Subscribed => {
            if inn {
                next.state = s.with(to, true, out, false);
                next.approved = false;
                true
            } else {
                if !from {
                    next.approved = true;
                }
                false
            }
        }
        // A.2.4: denies a pending request or cancels From; also cancels a pre-approval.
        // Routed only when the state changed.
        Kind::Unsubscribed => {
            next.state = s.with(to, false, out, false);
            next.approved = false;
            next.state != s
        }
    };
    Outcome::new(current, next, forward)
}

/// The contact's `kind` arrives for the user (RFC 6121 Appendix A.3, §3.1.3, §3.1.6, §3.2.3,
/// §3.3.3, §3.4).
pub fn inbound(current: ContactState, kind: Kind) -> Outcome {
    let s = current.state;
    let (to, from, out, inn) = (s.has_to(), s.has_from(), s.pending_out(), s.pending_in());
    let mut next = current;
    let mut auto_reply = None;
    let forward = match kind {
        Kind::Subscribe if from => {
            // A.3.1 footnote: already subscribed, answer for the user.
            auto_reply = Some(Kind::Subscribed);
            false
        }
        Kind::Subscribe if current.approved => {
            // §3.4: pre-approved, grant without asking the user.
            next.state = s.with(to, true, out, false);
            next.approved = false;
            auto_reply = Some(Kind::Subscribed);
            false
        }
        // A.3.1: a new request is delivered; a repeated one is not.
        Kind::Subscribe => {
            next.state = s.with(to, from, out, true);
            !inn
        }
        // A.3.2: the contact stops wanting the user's presence (From or Pending In ends).
        Kind::Unsubscribe => {
            next.state = s.with(to, false, out, false);
            from || inn
        }
        // A.3.3: only an answer to our pending request counts.
        Kind::Subscribed => {
            next.state = s.with(to || out, from, false, inn);
            out
        }
        // A.3.4: denial of our request, or end of To.
        Kind::Unsubscribed => {
            next.state = s.with(false, from, false, inn);
            to || out
        }
    };
    let mut outcome = Outcome::new(current, next, forward);
    outcome.auto_reply = auto_reply;
    outcome
}

#[cfg(test)]
#[path = "subscription_tests.rs"]
mod tests;
