//! XEP-0045 persistent rooms: configuration (the `muc#roomconfig` form as XML), subject, room
//! vCard and affiliations, per MUC service domain. Occupants and history live in memory.

use std::future::Future;

use crate::{Result, Storage, StorageError};

/// One persistent room as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRoom {
    /// The room's localpart.
    pub name: String,
    /// Serialised configuration.
    pub config: String,
    /// Current subject and the nick that set it.
    pub subject: Option<(String, String)>,
    /// Serialised room vCard (its avatar).
    pub vcard: Option<String>,
    /// `(bare JID, affiliation)` for every affiliation other than `none`.
    pub affiliations: Vec<(String, String)>,
}

/// Persistent rooms of MUC services.
pub trait Rooms {
    /// Stores the whole room, replacing what was stored under its name.
    fn save_room(
        &self,
        service: &str,
        room: &StoredRoom,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Forgets a room (it became temporary or was destroyed).
    fn delete_room(&self, service: &str, name: &str) -> impl Future<Output = Result<()>> + Send;

    /// Every stored room of a service.
    fn rooms(&self, service: &str) -> impl Future<Output = Result<Vec<StoredRoom>>> + Send;
}

type RoomRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Rooms for Storage {
    async fn save_room(&self, service: &str, room: &StoredRoom) -> Result<()> {
        let err = || StorageError::query("save_room", "room");
        let (subject, by) = room.subject.clone().unzip();
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            sqlx::query(
                "INSERT INTO muc_rooms (service, name, config, subject, subject_by, vcard) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (service, name) DO UPDATE SET \
                 config = excluded.config, subject = excluded.subject, \
                 subject_by = excluded.subject_by, vcard = excluded.vcard",
            )
            .bind(service)
            .bind(&room.name)
            .bind(&room.config)
            .bind(&subject)
            .bind(&by)
            .bind(&room.vcard)
            .execute(&mut *tx)
            .await
            .map_err(err())?;
            sqlx::query("DELETE FROM muc_affiliations WHERE service = $1 AND room = $2")
                .bind(service)
                .bind(&room.name)
                .execute(&mut *tx)
                .await
                .map_err(err())?;
            for (jid, affiliation) in &room.affiliations {
                sqlx::query(
                    "INSERT INTO muc_affiliations (service, room, jid, affiliation) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(service)
                .bind(&room.name)
                .bind(jid)
                .bind(affiliation)
                .execute(&mut *tx)
                .await
                .map_err(err())?;
            }
            tx.commit().await.map_err(err())
        })
    }

    async fn delete_room(&self, service: &str, name: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM muc_rooms WHERE service = $1 AND name = $2")
                .bind(service)
                .bind(name)
                .execute(pool)
                .await
                .map_err(StorageError::query("delete_room", "room"))?;
        });
        Ok(())
    }

    async fn rooms(&self, service: &str) -> Result<Vec<StoredRoom>> {
        let err = || StorageError::query("rooms", "room");
        let (rows, affiliations): (Vec<RoomRow>, Vec<(String, String, String)>) = with_pool!(self, pool => {
            let rows = sqlx::query_as(
                "SELECT name, config, subject, subject_by, vcard FROM muc_rooms \
                 WHERE service = $1 ORDER BY name",
            )
            .bind(service)
            .fetch_all(pool)
            .await
            .map_err(err())?;
            let affiliations = sqlx::query_as(
                "SELECT room, jid, affiliation FROM muc_affiliations WHERE service = $1 \
                 ORDER BY room, jid",
            )
            .bind(service)
            .fetch_all(pool)
            .await
            .map_err(err())?;
            (rows, affiliations)
        });
        Ok(rows
            .into_iter()
            .map(|(name, config, subject, by, vcard)| StoredRoom {
                affiliations: affiliations
                    .iter()
                    .filter(|(room, _, _)| *room == name)
                    .map(|(_, jid, a)| (jid.clone(), a.clone()))
                    .collect(),
                name,
                config,
                subject: subject.zip(by),
                vcard,
            })
            .collect())
    }
}
