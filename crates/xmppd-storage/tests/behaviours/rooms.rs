//! XEP-0045 persistent rooms: save replaces, load returns affiliations per room, delete cascades.

use xmppd_storage::{Rooms, StoredRoom};

use crate::support::Ctx;

pub async fn rooms_save_load_delete(ctx: &Ctx) {
    let s = &ctx.storage;
    let service = "conference.example.test";
    let mut lobby = StoredRoom {
        name: "lobby".into(),
        config: "<x xmlns='jabber:x:data' type='submit'/>".into(),
        subject: Some(("Welcome".into(), "Alice".into())),
        vcard: None,
        affiliations: vec![
            ("alice@example.test".into(), "owner".into()),
            ("bob@example.test".into(), "member".into()),
        ],
    };
    let other = StoredRoom {
        name: "other".into(),
        config: "<x xmlns='jabber:x:data' type='submit'/>".into(),
        subject: None,
        vcard: Some("<vCard xmlns='vcard-temp'/>".into()),
        affiliations: vec![("carol@example.test".into(), "owner".into())],
    };
    s.save_room(service, &lobby).await.unwrap();
    s.save_room(service, &other).await.unwrap();
    assert!(s.rooms("elsewhere.example.test").await.unwrap().is_empty());
    assert_eq!(
        s.rooms(service).await.unwrap(),
        vec![lobby.clone(), other.clone()]
    );
    // Saving again replaces the affiliations instead of adding to them.
    lobby.affiliations = vec![
        ("alice@example.test".into(), "owner".into()),
        ("eve@example.test".into(), "outcast".into()),
    ];
    lobby.subject = None;
    s.save_room(service, &lobby).await.unwrap();
    assert_eq!(
        s.rooms(service).await.unwrap(),
        vec![lobby.clone(), other.clone()]
    );
    // An affiliation outside the four is refused by the schema.
    let mut bad = other.clone();
    bad.affiliations = vec![("x@example.test".into(), "king".into())];
    assert!(s.save_room(service, &bad).await.is_err());
    s.delete_room(service, "lobby").await.unwrap();
    assert_eq!(s.rooms(service).await.unwrap(), vec![other]);
}
