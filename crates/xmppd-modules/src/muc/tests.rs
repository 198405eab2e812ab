use super::admin::{self, AdminItem};
use super::config::{RoomConfig, Whois};
use super::room::{Enter, Room};
use super::{Fanout, MucError};
use chrono::Utc;
use jid::{BareJid, FullJid, Jid};
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field};
use xmpp_parsers::message::{Lang, Message};
use xmpp_parsers::muc::muc::History;
use xmpp_parsers::muc::user::{Affiliation, MucUser, Role, Status};
use xmpp_parsers::presence::Presence;

fn full(s: &str) -> FullJid {
    FullJid::new(s).unwrap()
}
fn bare(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

fn enter<'a>(from: &'a FullJid, nick: &'a str) -> Enter<'a> {
    Enter {
        from,
        nick,
        presence: Presence::available(),
        password: None,
        history: None,
    }
}

/// An unlocked room `room@conf.x.test` with `config`, owned by the first of `occupants`, who
/// all entered in order under their nicks (for the tests of the other rule files too).
pub(super) fn room_with(config: RoomConfig, occupants: &[(&FullJid, &str)]) -> Room {
    let mut room = Room::create(bare("room@conf.x.test"), occupants[0].0.to_bare(), config);
    room.locked = false;
    for (i, (jid, nick)) in occupants.iter().enumerate() {
        room.enter(enter(jid, nick), i == 0, Utc::now()).unwrap();
    }
    room
}

/// A configured (unlocked) room owned by alice, who is in it as "Alice".
fn room() -> (Room, FullJid) {
    let alice = full("alice@x.test/a");
    let mut r = Room::create(
        bare("room@conf.x.test"),
        alice.to_bare(),
        RoomConfig::new(20),
    );
    r.enter(enter(&alice, "Alice"), true, Utc::now()).unwrap();
    let submit = DataForm::new(DataFormType::Submit, super::config::ROOMCONFIG, vec![]);
    r.configure(&alice.to_bare(), &submit, 100).unwrap();
    (r, alice)
}

fn statuses(f: &Fanout) -> Vec<Status> {
    let p = Presence::try_from(f.stanza.clone()).unwrap();
    p.payloads
        .iter()
        .find_map(|x| MucUser::try_from(x.clone()).ok())
        .unwrap_or_else(|| panic!("{}", String::from(&f.stanza)))
        .status
}

#[test]
fn creation_is_locked_until_configured_and_says_201() {
    let alice = full("alice@x.test/a");
    let mut r = Room::create(
        bare("room@conf.x.test"),
        alice.to_bare(),
        RoomConfig::new(20),
    );
    let out = r.enter(enter(&alice, "Alice"), true, Utc::now()).unwrap();
    let own = out
        .iter()
        .find(|f| f.to == vec![Jid::from(alice.clone())])
        .unwrap();
    assert!(statuses(own).contains(&Status::RoomHasBeenCreated));
    assert!(statuses(own).contains(&Status::SelfPresence));
    let bob = full("bob@x.test/b");
    assert_eq!(
        r.enter(enter(&bob, "Bob"), false, Utc::now()).unwrap_err(),
        MucError::Locked
    );
}

#[test]
fn nick_conflict_and_jids_only_for_moderators() {
    let (mut r, alice) = room();
    let bob = full("bob@x.test/b");
    let out = r.enter(enter(&bob, "Bob"), false, Utc::now()).unwrap();
    // Bob (participant, semi-anonymous room) sees Alice without her JID; Alice (moderator)
    // sees Bob's.
    let to_bob_about_alice = &out[0];
    assert!(!String::from(&to_bob_about_alice.stanza).contains("alice@x.test/a"));
    let to_alice = out
        .iter()
        .find(|f| f.to == vec![Jid::from(alice.clone())])
        .unwrap();
    assert!(String::from(&to_alice.stanza).contains("bob@x.test/b"));
    let carol = full("carol@x.test/c");
    assert_eq!(
        r.enter(enter(&carol, "Bob"), false, Utc::now())
            .unwrap_err(),
        MucError::NickConflict
    );
}

#[test]
fn members_only_password_and_ban() {
    let (mut r, alice) = room();
    r.config.members_only = true;
    let bob = full("bob@x.test/b");
    assert_eq!(
        r.enter(enter(&bob, "Bob"), false, Utc::now()).unwrap_err(),
        MucError::MembersOnly
    );
    r.set_affiliation(&alice.to_bare(), &bob.to_bare(), Affiliation::Member, None)
        .unwrap();
    r.config.password = Some("s3cret".into());
    assert_eq!(
        r.enter(enter(&bob, "Bob"), false, Utc::now()).unwrap_err(),
        MucError::Password
    );
    let mut with_pw = enter(&bob, "Bob");
    with_pw.password = Some("s3cret");
    r.enter(with_pw, false, Utc::now()).unwrap();
    let out = r
        .set_affiliation(&alice.to_bare(), &bob.to_bare(), Affiliation::Outcast, None)
        .unwrap();
    assert!(out.iter().all(|f| statuses(f).contains(&Status::Banned)));
    assert!(r.by_nick("Bob").is_none());
    assert_eq!(
        r.enter(enter(&bob, "Bob"), false, Utc::now()).unwrap_err(),
        MucError::Banned
    );
}

#[test]
fn kick_needs_a_moderator_and_spares_owners() {
    let (mut r, alice) = room();
    let bob = full("bob@x.test/b");
    r.enter(enter(&bob, "Bob"), false, Utc::now()).unwrap();
    assert!(matches!(
        r.set_role(&bob, "Alice", Role::None, None),
        Err(MucError::Forbidden(_))
    ));
    let out = r
        .set_role(&alice, "Bob", Role::None, Some("spam".into()))
        .unwrap();
    assert!(out.iter().all(|f| statuses(f).contains(&Status::Kicked)));
    assert!(r.by_nick("Bob").is_none());
}

#[test]
fn moderated_rooms_silence_visitors_until_voiced() {
    let (mut r, alice) = room();
    r.config.moderated = true;
    let bob = full("bob@x.test/b");
    r.enter(enter(&bob, "Bob"), false, Utc::now()).unwrap();
    assert_eq!(r.by_nick("Bob").unwrap().role, Role::Visitor);
    let msg = Message::groupchat(None).with_body(Lang::new(), "hi".into());
    assert!(matches!(
        r.groupchat(&bob, msg.clone(), Utc::now()),
        Err(MucError::Forbidden(_))
    ));
    r.set_role(&alice, "Bob", Role::Participant, None).unwrap();
    assert_eq!(r.groupchat(&bob, msg, Utc::now()).unwrap()[0].to.len(), 2);
}

#[test]
fn history_and_subject_on_join_respect_maxstanzas() {
    let (mut r, alice) = room();
    for i in 0..5 {
        let msg = Message::groupchat(None).with_body(Lang::new(), format!("m{i}"));
        r.groupchat(&alice, msg, Utc::now()).unwrap();
    }
    let mut subject = Message::groupchat(None);
    subject.subjects.insert(Lang::new(), "Topic".into());
    r.groupchat(&alice, subject, Utc::now()).unwrap();
    let bob = full("bob@x.test/b");
    let request = History {
        maxstanzas: Some(2),
        ..History::new()
    };
    let mut e = enter(&bob, "Bob");
    e.history = Some(&request);
    let out = r.enter(e, false, Utc::now()).unwrap();
    let messages: Vec<Message> = out
        .iter()
        .filter_map(|f| Message::try_from(f.stanza.clone()).ok())
        .collect();
    let bodies: Vec<_> = messages
        .iter()
        .filter_map(|m| m.bodies.values().next().cloned())
        .collect();
    assert_eq!(bodies, ["m3", "m4"]);
    assert_eq!(
        messages.last().unwrap().subjects.values().next().unwrap(),
        "Topic"
    );
}

#[test]
fn config_form_round_trip_and_bounds() {
    let mut c = RoomConfig::new(20);
    let mut form = c.to_data(DataFormType::Submit);
    for f in &mut form.fields {
        match f.var.as_deref() {
            Some("muc#roomconfig_persistentroom") => f.values = vec!["1".into()],
            Some("muc#roomconfig_historylength") => f.values = vec!["5000".into()],
            Some("muc#roomconfig_whois") => f.values = vec!["anyone".into()],
            _ => {}
        }
    }
    c.apply(&form, 100).unwrap();
    assert!(c.persistent);
    assert_eq!(c.history_length, 100);
    assert_eq!(c.whois, Whois::Anyone);
    let mut again = RoomConfig::new(0);
    again.apply(&c.to_data(DataFormType::Submit), 100).unwrap();
    assert_eq!(again, c);
    let protected = DataForm::new(
        DataFormType::Submit,
        super::config::ROOMCONFIG,
        vec![
            Field::new(
                "muc#roomconfig_passwordprotectedroom",
                xmpp_parsers::data_forms::FieldType::Boolean,
            )
            .with_value("1"),
        ],
    );
    assert!(matches!(
        c.apply(&protected, 100),
        Err(MucError::BadForm(_))
    ));
}

#[test]
fn last_owner_stays_and_admins_cannot_touch_owners() {
    let (mut r, alice) = room();
    assert_eq!(
        r.set_affiliation(&alice.to_bare(), &alice.to_bare(), Affiliation::None, None)
            .unwrap_err(),
        MucError::LastOwner
    );
    let bob = bare("bob@x.test");
    r.set_affiliation(&alice.to_bare(), &bob, Affiliation::Admin, None)
        .unwrap();
    assert!(matches!(
        r.set_affiliation(&bob, &alice.to_bare(), Affiliation::Outcast, None),
        Err(MucError::NotAllowed(_))
    ));
}

#[test]
fn admin_items_parse_and_reject_bad_input() {
    let q: minidom::Element = "<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='Bob' role='none'><reason>bye</reason></item></query>".parse().unwrap();
    assert_eq!(
        admin::parse(&q, true).unwrap(),
        vec![AdminItem::Role {
            nick: "Bob".into(),
            role: Role::None,
            reason: Some("bye".into())
        }]
    );
    let bad: minidom::Element =
        "<query xmlns='http://jabber.org/protocol/muc#admin'><item role='king'/></query>"
            .parse()
            .unwrap();
    assert_eq!(
        admin::parse(&bad, true).unwrap_err(),
        MucError::BadRequest("unknown role")
    );
}

#[test]
fn leaving_empties_and_removes_temporary_rooms() {
    let (mut r, alice) = room();
    let (out, vanish) = r.leave(&alice, None);
    assert!(statuses(&out[0]).contains(&Status::SelfPresence));
    assert!(vanish);
}

#[test]
fn history_limits_by_chars_seconds_and_capacity() {
    use super::history::{Entry, History as Buffer};
    let now = Utc::now();
    let mut h = Buffer::default();
    for i in 0..5i64 {
        let stanza = Message::groupchat(None)
            .with_body(Lang::new(), format!("m{i}"))
            .into();
        let at = now - chrono::Duration::seconds(50 - i * 10);
        h.push(
            Entry {
                stanza,
                at,
                chars: 100,
            },
            4,
        );
    }
    assert_eq!(h.len(), 4, "capacity drops the oldest");
    let body = |e: &&Entry| {
        Message::try_from(e.stanza.clone())
            .unwrap()
            .bodies
            .values()
            .next()
            .cloned()
            .unwrap()
    };
    let by_chars = History {
        maxchars: Some(250),
        ..History::new()
    };
    assert_eq!(
        h.select(Some(&by_chars), now)
            .iter()
            .map(body)
            .collect::<Vec<_>>(),
        ["m3", "m4"]
    );
    let by_seconds = History {
        seconds: Some(25),
        ..History::new()
    };
    assert_eq!(
        h.select(Some(&by_seconds), now)
            .iter()
            .map(body)
            .collect::<Vec<_>>(),
        ["m3", "m4"]
    );
    let none = History {
        maxstanzas: Some(0),
        ..History::new()
    };
    assert!(h.select(Some(&none), now).is_empty());
    assert_eq!(h.select(None, now).len(), 4);
}
