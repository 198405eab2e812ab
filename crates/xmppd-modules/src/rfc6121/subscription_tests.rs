//! Every row of RFC 6121 Appendix A, plus pre-approval (§3.4) and the side effects.

use super::*;
use State::*;
use proptest::prelude::*;

/// (existing state, new state, routed or delivered?) in the RFC's row order.
type Table = [(State, State, bool); 9];

/// A.2.1 outbound subscribe (always routed).
const OUT_SUBSCRIBE: Table = [
    (None, NonePendingOut, true),
    (NonePendingOut, NonePendingOut, true),
    (NonePendingIn, NonePendingOutIn, true),
    (NonePendingOutIn, NonePendingOutIn, true),
    (To, To, true),
    (ToPendingIn, ToPendingIn, true),
    (From, FromPendingOut, true),
    (FromPendingOut, FromPendingOut, true),
    (Both, Both, true),
];

/// A.2.2 outbound unsubscribe (always routed).
const OUT_UNSUBSCRIBE: Table = [
    (None, None, true),
    (NonePendingOut, None, true),
    (NonePendingIn, NonePendingIn, true),
    (NonePendingOutIn, NonePendingIn, true),
    (To, None, true),
    (ToPendingIn, NonePendingIn, true),
    (From, From, true),
    (FromPendingOut, From, true),
    (Both, From, true),
];

/// A.2.3 outbound subscribed (routed only when it approves a pending request).
const OUT_SUBSCRIBED: Table = [
    (None, None, false),
    (NonePendingOut, NonePendingOut, false),
    (NonePendingIn, From, true),
    (NonePendingOutIn, FromPendingOut, true),
    (To, To, false),
    (ToPendingIn, Both, true),
    (From, From, false),
    (FromPendingOut, FromPendingOut, false),
    (Both, Both, false),
];

/// A.2.4 outbound unsubscribed (routed only when the state changes).
const OUT_UNSUBSCRIBED: Table = [
    (None, None, false),
    (NonePendingOut, NonePendingOut, false),
    (NonePendingIn, None, true),
    (NonePendingOutIn, NonePendingOut, true),
    (To, To, false),
    (ToPendingIn, To, true),
    (From, None, true),
    (FromPendingOut, NonePendingOut, true),
    (Both, To, true),
];

/// A.3.1 inbound subscribe (From/Both rows are auto-answered, see below).
const IN_SUBSCRIBE: Table = [
    (None, NonePendingIn, true),
    (NonePendingOut, NonePendingOutIn, true),
    (NonePendingIn, NonePendingIn, false),
    (NonePendingOutIn, NonePendingOutIn, false),
    (To, ToPendingIn, true),
    (ToPendingIn, ToPendingIn, false),
    (From, From, false),
    (FromPendingOut, FromPendingOut, false),
    (Both, Both, false),
];

/// A.3.2 inbound unsubscribe.
const IN_UNSUBSCRIBE: Table = [
    (None, None, false),
    (NonePendingOut, NonePendingOut, false),
    (NonePendingIn, None, true),
    (NonePendingOutIn, NonePendingOut, true),
    (To, To, false),
    (ToPendingIn, To, true),
    (From, None, true),
    (FromPendingOut, NonePendingOut, true),
    (Both, To, true),
];

/// A.3.3 inbound subscribed.
const IN_SUBSCRIBED: Table = [
    (None, None, false),
    (NonePendingOut, To, true),
    (NonePendingIn, NonePendingIn, false),
    (NonePendingOutIn, ToPendingIn, true),
    (To, To, false),
    (ToPendingIn, ToPendingIn, false),
    (From, From, false),
    (FromPendingOut, Both, true),
    (Both, Both, false),
];

/// A.3.4 inbound unsubscribed.
const IN_UNSUBSCRIBED: Table = [
    (None, None, false),
    (NonePendingOut, None, true),
    (NonePendingIn, NonePendingIn, false),
    (NonePendingOutIn, NonePendingIn, true),
    (To, None, true),
    (ToPendingIn, NonePendingIn, true),
    (From, From, false),
    (FromPendingOut, From, true),
    (Both, From, true),
];

fn check(name: &str, table: &Table, step: fn(ContactState, Kind) -> Outcome, kind: Kind) {
    for (row, &(old, new, forward)) in table.iter().enumerate() {
        assert_eq!(
            old,
            State::ALL[row],
            "{name}: table rows follow the RFC order"
        );
        let outcome = step(ContactState::new(old), kind);
        assert_eq!(
            outcome.contact.state, new,
            "{name} row {row} ({old:?}): state"
        );
        assert_eq!(
            outcome.forward, forward,
            "{name} row {row} ({old:?}): forward"
        );
    }
}

#[test]
fn appendix_a2_outbound_tables() {
    check("A.2.1", &OUT_SUBSCRIBE, outbound, Kind::Subscribe);
    check("A.2.2", &OUT_UNSUBSCRIBE, outbound, Kind::Unsubscribe);
    check("A.2.3", &OUT_SUBSCRIBED, outbound, Kind::Subscribed);
    check("A.2.4", &OUT_UNSUBSCRIBED, outbound, Kind::Unsubscribed);
}

#[test]
fn appendix_a3_inbound_tables() {
    check("A.3.1", &IN_SUBSCRIBE, inbound, Kind::Subscribe);
    check("A.3.2", &IN_UNSUBSCRIBE, inbound, Kind::Unsubscribe);
    check("A.3.3", &IN_SUBSCRIBED, inbound, Kind::Subscribed);
    check("A.3.4", &IN_UNSUBSCRIBED, inbound, Kind::Unsubscribed);
}

#[test]
fn inbound_subscribe_when_already_subscribed_auto_replies() {
    for state in [From, FromPendingOut, Both] {
        let outcome = inbound(ContactState::new(state), Kind::Subscribe);
        assert_eq!(outcome.auto_reply, Some(Kind::Subscribed), "{state:?}");
        assert!(!outcome.roster_push && !outcome.forward, "{state:?}");
    }
    let outcome = inbound(ContactState::new(None), Kind::Subscribe);
    assert_eq!(outcome.auto_reply, Option::None);
}

#[test]
fn pre_approval_is_recorded_then_consumed_by_the_request() {
    // §3.4: `subscribed` with nothing pending records approved='true' and pushes the roster.
    let recorded = outbound(ContactState::new(None), Kind::Subscribed);
    assert!(recorded.contact.approved && recorded.roster_push && !recorded.forward);
    // The request then is granted by the server without reaching the user.
    let granted = inbound(recorded.contact, Kind::Subscribe);
    assert_eq!(granted.contact, ContactState::new(From));
    assert_eq!(granted.auto_reply, Some(Kind::Subscribed));
    assert_eq!(granted.presence, PresenceToContact::Available);
    assert!(granted.roster_push && !granted.forward);
    // Pre-approval from To ends in Both.
    let approved = ContactState {
        state: To,
        approved: true,
    };
    assert_eq!(inbound(approved, Kind::Subscribe).contact.state, Both);
}

#[test]
fn unsubscribed_cancels_pre_approval() {
    let approved = ContactState {
        state: NonePendingOut,
        approved: true,
    };
    let outcome = outbound(approved, Kind::Unsubscribed);
    assert_eq!(outcome.contact, ContactState::new(NonePendingOut));
    assert!(outcome.roster_push && !outcome.forward);
}

#[test]
fn presence_follows_gain_and_loss_of_from() {
    let gained = outbound(ContactState::new(NonePendingIn), Kind::Subscribed);
    assert_eq!(gained.presence, PresenceToContact::Available);
    let lost = outbound(ContactState::new(Both), Kind::Unsubscribed);
    assert_eq!(lost.presence, PresenceToContact::Unavailable);
    let lost_inbound = inbound(ContactState::new(From), Kind::Unsubscribe);
    assert_eq!(lost_inbound.presence, PresenceToContact::Unavailable);
    let unchanged = outbound(ContactState::new(None), Kind::Subscribe);
    assert_eq!(unchanged.presence, PresenceToContact::Nothing);
}

#[test]
fn roster_push_only_for_visible_changes() {
    // Pending-in is not part of the roster item (§3.1.3): no push.
    assert!(!inbound(ContactState::new(None), Kind::Subscribe).roster_push);
    // Pending-out shows as ask='subscribe': push.
    assert!(outbound(ContactState::new(None), Kind::Subscribe).roster_push);
    assert!(inbound(ContactState::new(NonePendingOut), Kind::Subscribed).roster_push);
}

#[test]
fn roster_attributes_serialise_per_state() {
    assert_eq!(Both.subscription(), Subscription::Both);
    assert_eq!(FromPendingOut.subscription(), Subscription::From);
    assert_eq!(FromPendingOut.ask(), Ask::Subscribe);
    assert_eq!(ToPendingIn.subscription(), Subscription::To);
    assert_eq!(ToPendingIn.ask(), Ask::None);
}

#[test]
fn kind_parses_from_presence_types_and_rejects_others() {
    assert_eq!(
        Kind::from_presence(&PresenceType::Subscribe),
        Some(Kind::Subscribe)
    );
    assert_eq!(
        Kind::from_presence(&PresenceType::Unsubscribed),
        Some(Kind::Unsubscribed)
    );
    assert_eq!(Kind::from_presence(&PresenceType::None), Option::None);
    assert_eq!(Kind::from_presence(&PresenceType::Probe), Option::None);
    assert_eq!(Kind::Subscribed.presence_type(), PresenceType::Subscribed);
}

#[test]
fn impossible_flag_mixes_are_refused() {
    assert_eq!(State::from_flags(true, false, true, false), Option::None);
    assert_eq!(State::from_flags(false, true, false, true), Option::None);
    assert_eq!(State::from_flags(true, true, false, false), Some(Both));
}

fn any_contact() -> impl Strategy<Value = ContactState> {
    (0..9usize, any::<bool>()).prop_map(|(i, approved)| ContactState {
        state: State::ALL[i],
        approved,
    })
}

fn any_kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Subscribe),
        Just(Kind::Subscribed),
        Just(Kind::Unsubscribe),
        Just(Kind::Unsubscribed)
    ]
}

proptest! {
    /// Sending or receiving the same stanza twice changes nothing the second time.
    #[test]
    fn repeating_a_stanza_is_idempotent(contact in any_contact(), kind in any_kind()) {
        for step in [outbound, inbound] {
            let first = step(contact, kind);
            let second = step(first.contact, kind);
            prop_assert_eq!(second.contact, first.contact);
            prop_assert!(!second.roster_push);
            prop_assert_eq!(second.presence, PresenceToContact::Nothing);
        }
    }

    /// Flags round-trip through `from_flags` for every state.
    #[test]
    fn flags_round_trip(contact in any_contact()) {
        let s = contact.state;
        prop_assert_eq!(State::from_flags(s.has_to(), s.has_from(), s.pending_out(), s.pending_in()), Some(s));
    }
}
