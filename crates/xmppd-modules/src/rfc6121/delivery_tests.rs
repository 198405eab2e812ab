use super::*;
use proptest::prelude::*;

fn session(resource: &str, priority: Option<i8>) -> ResourceSnapshot {
    ResourceSnapshot {
        jid: FullJid::new(&format!("u@example.com/{resource}")).unwrap(),
        presence: priority.map(|p| Presence::available().with_priority(p)),
    }
}

fn sessions() -> Vec<ResourceSnapshot> {
    vec![
        session("high", Some(10)),
        session("low", Some(0)),
        session("shy", Some(-1)),
        session("conn", None),
    ]
}

fn jid(s: &str) -> Jid {
    Jid::new(s).unwrap()
}

fn kind(xml: &str) -> StanzaKind {
    StanzaKind::from_element(&xml.parse().unwrap()).unwrap()
}

fn deliver(list: &[&str]) -> Decision {
    Decision::DeliverTo(
        list.iter()
            .map(|r| FullJid::new(&format!("u@example.com/{r}")).unwrap())
            .collect(),
    )
}

#[test]
fn parses_kinds_from_stanza_elements() {
    assert_eq!(
        kind("<message xmlns='jabber:client'/>"),
        StanzaKind::Message(MessageType::Normal)
    );
    assert_eq!(
        kind("<message xmlns='jabber:client' type='chat'/>"),
        StanzaKind::Message(MessageType::Chat)
    );
    assert_eq!(
        kind("<presence xmlns='jabber:client' type='probe'/>"),
        StanzaKind::Presence(PresenceType::Probe)
    );
    assert_eq!(
        kind("<iq xmlns='jabber:client' type='result' id='x'/>"),
        StanzaKind::Iq(IqKind::Response)
    );
    let iq = Iq::from_get("x", xmpp_parsers::ping::Ping);
    assert_eq!(StanzaKind::from(&iq), StanzaKind::Iq(IqKind::Request));
}

#[test]
fn refuses_unknown_stanza_types_with_exact_errors() {
    let err = |xml: &str| {
        StanzaKind::from_element(&xml.parse().unwrap())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("<message xmlns='jabber:client' type='shout'/>"),
        "malformed stanza payload: Unknown value for 'type' attribute."
    );
    assert_eq!(
        err("<presence xmlns='jabber:client' type='away'/>"),
        "malformed stanza payload: unknown presence type \"away\""
    );
    assert_eq!(
        err("<iq xmlns='jabber:client'/>"),
        "malformed stanza payload: unknown iq type None"
    );
    assert_eq!(
        err("<foo xmlns='jabber:client'/>"),
        "malformed stanza payload: element foo is not a stanza"
    );
}

#[test]
fn bare_jid_messages_reach_every_non_negative_available_resource() {
    let s = sessions();
    let bare = jid("u@example.com");
    let chat = StanzaKind::Message(MessageType::Chat);
    assert_eq!(
        route_local(&bare, &chat, Some(&s)),
        deliver(&["high", "low"])
    );
    let headline = StanzaKind::Message(MessageType::Headline);
    assert_eq!(
        route_local(&bare, &headline, Some(&s)),
        deliver(&["high", "low"])
    );
    let groupchat = StanzaKind::Message(MessageType::Groupchat);
    assert_eq!(
        route_local(&bare, &groupchat, Some(&s)),
        service_unavailable()
    );
    // Only negative-priority and connected-only sessions: offline for chat, drop headline.
    let away = [session("shy", Some(-1)), session("conn", None)];
    assert_eq!(
        route_local(&bare, &chat, Some(&away)),
        Decision::StoreOffline
    );
    assert_eq!(
        route_local(
            &bare,
            &StanzaKind::Message(MessageType::Normal),
            Some(&away)
        ),
        Decision::StoreOffline
    );
    assert_eq!(route_local(&bare, &headline, Some(&away)), Decision::Drop);
}

#[test]
fn full_jid_goes_to_that_resource_or_falls_back() {
    let s = sessions();
    let chat = StanzaKind::Message(MessageType::Chat);
    // Negative priority does not matter when addressed directly.
    assert_eq!(
        route_local(&jid("u@example.com/shy"), &chat, Some(&s)),
        deliver(&["shy"])
    );
    assert_eq!(
        route_local(&jid("u@example.com/gone"), &chat, Some(&s)),
        deliver(&["high", "low"])
    );
    let headline = StanzaKind::Message(MessageType::Headline);
    assert_eq!(
        route_local(&jid("u@example.com/gone"), &headline, Some(&s)),
        Decision::Drop
    );
    let request = StanzaKind::Iq(IqKind::Request);
    assert_eq!(
        route_local(&jid("u@example.com/conn"), &request, Some(&s)),
        deliver(&["conn"])
    );
    assert_eq!(
        route_local(&jid("u@example.com/gone"), &request, Some(&s)),
        service_unavailable()
    );
    let available = StanzaKind::Presence(PresenceType::None);
    assert_eq!(
        route_local(&jid("u@example.com/gone"), &available, Some(&s)),
        Decision::Drop
    );
    let subscribe = StanzaKind::Presence(PresenceType::Subscribe);
    assert_eq!(
        route_local(&jid("u@example.com/gone"), &subscribe, Some(&[])),
        Decision::StoreOffline
    );
}

#[test]
fn server_answers_bare_iq_and_probes() {
    let s = sessions();
    let bare = jid("u@example.com");
    assert_eq!(
        route_local(&bare, &StanzaKind::Iq(IqKind::Request), Some(&s)),
        Decision::HandleOnBehalf
    );
    assert_eq!(
        route_local(&bare, &StanzaKind::Presence(PresenceType::Probe), Some(&s)),
        Decision::HandleOnBehalf
    );
    assert_eq!(
        route_local(
            &jid("u@example.com/high"),
            &StanzaKind::Presence(PresenceType::Probe),
            Some(&s)
        ),
        Decision::HandleOnBehalf
    );
    assert_eq!(
        route_local(&bare, &StanzaKind::Presence(PresenceType::None), Some(&s)),
        deliver(&["high", "low", "shy"])
    );
}

#[test]
fn missing_account_bounces_messages_and_iqs_and_drops_presence() {
    let nobody = jid("nobody@example.com");
    assert_eq!(
        route_local(&nobody, &StanzaKind::Message(MessageType::Chat), None),
        service_unavailable()
    );
    assert_eq!(
        route_local(&nobody, &StanzaKind::Message(MessageType::Error), None),
        Decision::Drop
    );
    assert_eq!(
        route_local(&nobody, &StanzaKind::Iq(IqKind::Request), None),
        service_unavailable()
    );
    assert_eq!(
        route_local(&nobody, &StanzaKind::Iq(IqKind::Response), None),
        Decision::Drop
    );
    assert_eq!(
        route_local(
            &nobody,
            &StanzaKind::Presence(PresenceType::Subscribe),
            None
        ),
        Decision::Drop
    );
}

proptest! {
    /// Whatever the sessions, a chat to the bare JID never reaches a negative-priority or
    /// connected-only resource, and is stored only when no one can take it.
    #[test]
    fn bare_chat_respects_priority(prios in prop::collection::vec(prop::option::of(any::<i8>()), 0..6)) {
        let s: Vec<_> = prios.iter().enumerate().map(|(i, p)| session(&format!("r{i}"), *p)).collect();
        let decision = route_local(&jid("u@example.com"), &StanzaKind::Message(MessageType::Chat), Some(&s));
        let eligible = prios.iter().filter(|p| p.is_some_and(|p| p >= 0)).count();
        match decision {
            Decision::DeliverTo(list) => prop_assert_eq!(list.len(), eligible),
            Decision::StoreOffline => prop_assert_eq!(eligible, 0),
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}
