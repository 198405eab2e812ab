//! Rooms with a XEP-0313 archive: the stanza id, status 170 and the disco feature.

use super::config::RoomConfig;
use super::disco::{NS_MAM, room_info};
use super::room::{Enter, Room};
use chrono::Utc;
use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::message::{Lang, Message};
use xmpp_parsers::muc::user::{MucUser, Status};
use xmpp_parsers::presence::Presence;
use xmpp_parsers::stanza_id::StanzaId;

fn enter(from: &FullJid) -> Enter<'_> {
    Enter {
        from,
        nick: "Alice",
        presence: Presence::available(),
        password: None,
        history: None,
    }
}

fn ids_by(stanza: &Element, by: &str) -> Vec<String> {
    let by = Jid::new(by).unwrap();
    Message::try_from(stanza.clone())
        .unwrap()
        .payloads
        .into_iter()
        .filter_map(|p| StanzaId::try_from(p).ok())
        .filter(|s| s.by == by)
        .map(|s| s.id)
        .collect()
}

fn archived_room() -> (Room, FullJid, Vec<Status>) {
    let alice = FullJid::new("alice@x.test/a").unwrap();
    let jid = BareJid::new("room@conf.x.test").unwrap();
    let mut room = Room::create(jid, alice.to_bare(), RoomConfig::new(20));
    room.archived = true;
    let out = room.enter(enter(&alice), true, Utc::now()).unwrap();
    let codes = Presence::try_from(out[0].stanza.clone())
        .unwrap()
        .payloads
        .into_iter()
        .find_map(|p| MucUser::try_from(p).ok())
        .unwrap()
        .status;
    (room, alice, codes)
}

#[test]
fn archived_rooms_say_170_on_entry_and_advertise_mam() {
    let (room, _, codes) = archived_room();
    assert!(
        codes.contains(&Status::ConfigRoomLoggingEnabled),
        "{codes:?}"
    );
    assert!(
        room_info(&room, &room.jid)
            .features
            .iter()
            .any(|f| f == NS_MAM)
    );

    let mut plain = room.clone();
    plain.archived = false;
    assert!(
        !room_info(&plain, &plain.jid)
            .features
            .iter()
            .any(|f| f == NS_MAM)
    );
}

#[test]
fn the_room_stamps_its_id_on_fanout_and_history_and_drops_planted_ones() {
    let (mut room, alice, _) = archived_room();
    let planted = StanzaId {
        id: "forged".into(),
        by: Jid::new("room@conf.x.test").unwrap(),
    };
    let msg = Message::groupchat(None)
        .with_body(Lang::new(), "hi".into())
        .with_payloads(vec![planted.into()]);
    let out = room
        .groupchat_with_id(&alice, msg.clone(), Utc::now(), Some("abc"))
        .unwrap();
    assert_eq!(ids_by(&out[0].stanza, "room@conf.x.test"), ["abc"]);
    let history = room.history.select(None, Utc::now());
    assert_eq!(ids_by(&history[0].stanza, "room@conf.x.test"), ["abc"]);

    // Without an archive id nothing is stamped, and the planted id is still removed.
    let out = room.groupchat(&alice, msg, Utc::now()).unwrap();
    assert!(ids_by(&out[0].stanza, "room@conf.x.test").is_empty());

    // A subject change is not archived, so it gets no id.
    let mut subject = Message::groupchat(None);
    subject.subjects.insert(Lang::new(), "Topic".into());
    let out = room
        .groupchat_with_id(&alice, subject, Utc::now(), Some("def"))
        .unwrap();
    assert!(ids_by(&out[0].stanza, "room@conf.x.test").is_empty());
}
