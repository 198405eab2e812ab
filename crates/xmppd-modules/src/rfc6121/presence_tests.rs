use super::*;
use crate::rfc6121::subscription::State;

fn full(s: &str) -> FullJid {
    FullJid::new(s).unwrap()
}

fn bare(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

fn session(jid: &str, xml: Option<&str>) -> ResourceSnapshot {
    ResourceSnapshot {
        jid: full(jid),
        presence: xml.map(|x| Presence::try_from(x.parse::<minidom::Element>().unwrap()).unwrap()),
    }
}

fn roster() -> Vec<(BareJid, ContactState)> {
    vec![
        (bare("both@example.net"), ContactState::new(State::Both)),
        (bare("from@example.net"), ContactState::new(State::From)),
        (bare("to@example.net"), ContactState::new(State::To)),
        (
            bare("none@example.net"),
            ContactState::new(State::NonePendingIn),
        ),
    ]
}

fn view(r: &[(BareJid, ContactState)]) -> impl Iterator<Item = (&BareJid, ContactState)> + Clone {
    r.iter().map(|(j, c)| (j, *c))
}

#[test]
fn parsed_priority_decides_bare_delivery() {
    let positive = session(
        "u@example.com/a",
        Some("<presence xmlns='jabber:client'><priority>5</priority></presence>"),
    );
    let negative = session(
        "u@example.com/b",
        Some("<presence xmlns='jabber:client'><priority>-1</priority></presence>"),
    );
    let connected = session("u@example.com/c", None);
    assert_eq!(positive.priority(), Some(5));
    assert!(positive.receives_bare_messages());
    assert!(negative.is_available() && !negative.receives_bare_messages());
    assert!(!connected.is_available() && !connected.receives_bare_messages());
}

#[test]
fn out_of_range_priority_is_refused_by_the_parser() {
    let elem: minidom::Element =
        "<presence xmlns='jabber:client'><priority>200</priority></presence>"
            .parse()
            .unwrap();
    let error = Presence::try_from(elem).unwrap_err();
    assert_eq!(
        error.to_string(),
        "text parse error: number too large to fit in target type"
    );
}

#[test]
fn initial_presence_goes_to_subscribers_probes_to_and_collects_other_resources() {
    let sessions = [
        session("u@example.com/new", None),
        session(
            "u@example.com/old",
            Some("<presence xmlns='jabber:client'/>"),
        ),
    ];
    let r = roster();
    let plan = on_available(&full("u@example.com/new"), &sessions, view(&r));
    let contacts: Vec<&str> = plan.contacts.iter().map(Jid::as_str).collect();
    assert_eq!(contacts, ["both@example.net", "from@example.net"]);
    assert_eq!(
        plan.probes,
        [bare("both@example.net"), bare("to@example.net")]
    );
    assert_eq!(
        plan.own_resources,
        [full("u@example.com/new"), full("u@example.com/old")]
    );
    assert_eq!(plan.others_to_sender, [full("u@example.com/old")]);
    // A later update from the same resource is not initial: no probes.
    let sessions = [session(
        "u@example.com/new",
        Some("<presence xmlns='jabber:client'/>"),
    )];
    let update = on_available(&full("u@example.com/new"), &sessions, view(&r));
    assert!(update.probes.is_empty() && update.others_to_sender.is_empty());
}

#[test]
fn unavailable_reaches_directed_recipients_once() {
    let sessions = [
        session("u@example.com/a", Some("<presence xmlns='jabber:client'/>")),
        session("u@example.com/b", Some("<presence xmlns='jabber:client'/>")),
    ];
    let directed: BTreeSet<Jid> = [
        Jid::new("room@muc.example.net/nick").unwrap(),
        Jid::new("both@example.net/phone").unwrap(),
    ]
    .into();
    let r = roster();
    let plan = on_unavailable(&full("u@example.com/a"), &sessions, view(&r), &directed);
    let contacts: Vec<&str> = plan.contacts.iter().map(Jid::as_str).collect();
    assert_eq!(
        contacts,
        [
            "both@example.net",
            "from@example.net",
            "room@muc.example.net/nick"
        ]
    );
    assert_eq!(plan.own_resources, [full("u@example.com/b")]);
    assert!(plan.clear_directed);
}

#[test]
fn directed_presence_tracking() {
    let room = Jid::new("room@muc.example.net/nick").unwrap();
    assert_eq!(
        directed(&room, &PresenceType::None, None),
        DirectedChange::Add
    );
    assert_eq!(
        directed(&room, &PresenceType::Unavailable, None),
        DirectedChange::Remove
    );
    let sub = Jid::new("both@example.net").unwrap();
    let both = Some(ContactState::new(State::Both));
    assert_eq!(
        directed(&sub, &PresenceType::None, both),
        DirectedChange::Unchanged
    );
    assert_eq!(
        directed(&room, &PresenceType::Subscribe, None),
        DirectedChange::Unchanged
    );
}

#[test]
fn probe_answers_serialise_per_rfc_4_3_2() {
    let user = bare("u@example.com");
    let prober = Jid::new("both@example.net").unwrap();
    let sessions = [
        session(
            "u@example.com/a",
            Some("<presence xmlns='jabber:client'><show>away</show></presence>"),
        ),
        session("u@example.com/b", None),
    ];
    let both = Some(ContactState::new(State::Both));
    let answer = answer_probe(&user, &bare("both@example.net"), both, &sessions);
    let stanzas = answer.stanzas(&user, &prober);
    assert_eq!(
        String::from(&minidom::Element::from(stanzas[0].clone())),
        "<presence xmlns='jabber:client' from='u@example.com/a' to='both@example.net'>\
         <show>away</show><priority>0</priority></presence>"
    );
    let offline = answer_probe(&user, &bare("both@example.net"), both, &sessions[1..]);
    assert_eq!(offline, ProbeAnswer::Unavailable);
    assert_eq!(
        offline.stanzas(&user, &prober)[0].type_,
        PresenceType::Unavailable
    );
    let to_only = Some(ContactState::new(State::To));
    assert_eq!(
        answer_probe(&user, &bare("to@example.net"), to_only, &sessions),
        ProbeAnswer::Unsubscribed
    );
    assert_eq!(
        answer_probe(&user, &bare("stranger@x"), None, &sessions),
        ProbeAnswer::Unsubscribed
    );
    // The account's own probes (e.g. from another resource's server) are answered.
    assert!(matches!(
        answer_probe(&user, &user, None, &sessions),
        ProbeAnswer::Presences(_)
    ));
}
