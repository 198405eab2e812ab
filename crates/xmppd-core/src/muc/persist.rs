//! Persistent rooms in storage: the whole room (configuration form, subject, vCard,
//! affiliations) is written after each change, and read back at first use after a start.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jid::BareJid;
use minidom::Element;
use xmpp_parsers::data_forms::{DataForm, DataFormType};
use xmppd_modules::muc::config::RoomConfig;
use xmppd_modules::muc::roles;
use xmppd_modules::muc::room::{Room, Subject};
use xmppd_storage::{Rooms, StoredRoom};

use super::Service;
use crate::server::Server;

/// Reads the service's persistent rooms, once.
pub async fn ensure_loaded(server: &Arc<Server>, muc: &Service) {
    muc.loaded
        .get_or_init(|| async {
            let stored = match server.storage.rooms(&muc.config.domain).await {
                Ok(rooms) => rooms,
                Err(err) => {
                    tracing::warn!(%err, "loading persistent rooms failed");
                    return;
                }
            };
            let mut map = muc.map();
            for room in stored {
                match restore(muc, &room) {
                    Some(mut r) => {
                        r.archived = server.enabled(xmppd_config::Module::Mam);
                        map.insert(room.name.clone(), Arc::new(Mutex::new(r)));
                    }
                    None => tracing::warn!(room = %room.name, "a stored room could not be read"),
                }
            }
        })
        .await;
}

fn restore(muc: &Service, stored: &StoredRoom) -> Option<Room> {
    let jid = BareJid::new(&format!("{}@{}", stored.name, muc.config.domain)).ok()?;
    let form = stored
        .config
        .parse::<Element>()
        .ok()
        .and_then(|e| DataForm::try_from(e).ok())?;
    let mut config = RoomConfig::new(muc.config.default_history);
    config.apply(&form, muc.config.max_history).ok()?;
    let affiliations: BTreeMap<_, _> = stored
        .affiliations
        .iter()
        .filter_map(|(j, a)| Some((BareJid::new(j).ok()?, roles::parse_affiliation(a)?)))
        .collect();
    let subject = stored
        .subject
        .clone()
        .map(|(text, by)| Subject { text, by });
    let vcard = stored
        .vcard
        .as_ref()
        .and_then(|v| v.parse::<Element>().ok());
    Some(Room::restore(jid, config, affiliations, subject, vcard))
}

fn to_stored(name: &str, room: &Room) -> StoredRoom {
    StoredRoom {
        name: name.to_owned(),
        config: String::from(&Element::from(room.config.to_data(DataFormType::Submit))),
        subject: room.subject.clone().map(|s| (s.text, s.by)),
        vcard: room.vcard.as_ref().map(String::from),
        affiliations: room
            .affiliations
            .iter()
            .map(|(j, a)| (j.to_string(), roles::affiliation_name(a).to_owned()))
            .collect(),
    }
}

/// Writes the room as it is now (or forgets it when it is gone or no longer persistent).
/// The snapshot is taken after the save lock is held, so saves land in order.
pub async fn save(server: &Arc<Server>, muc: &Service, name: &str) {
    let _guard = muc.save_lock.lock().await;
    let snapshot = muc
        .with_room(name, |r| {
            (r.config.persistent && !r.locked).then(|| to_stored(name, r))
        })
        .flatten();
    let domain = &muc.config.domain;
    let result = match snapshot {
        Some(room) => server.storage.save_room(domain, &room).await,
        None => server.storage.delete_room(domain, name).await,
    };
    if let Err(err) = result {
        tracing::warn!(%err, room = name, "saving a room failed");
    }
}
