//! Offline storage (XEP-0160): stanzas kept for a user who has no session.
//!
//! Delivery is two steps so nothing is lost if the client never acknowledges: [`Offline::fetch_offline`]
//! reads, and only after delivery does [`Offline::delete_offline_up_to`] delete.

use std::future::Future;
use std::time::SystemTime;

use crate::storage::{from_millis, to_millis};
use crate::{Result, Storage, StorageError, User};

/// Position of a stored stanza; ids grow with storage order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OfflineId(pub i64);

/// One stored stanza.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineMessage {
    /// Its id, for [`Offline::delete_offline_up_to`].
    pub id: OfflineId,
    /// Sender JID, for the XEP-0203 delay `from`.
    pub from: String,
    /// When it was stored (millisecond precision), for the XEP-0203 delay stamp.
    pub stored_at: SystemTime,
    /// The serialised stanza, as given.
    pub stanza: Vec<u8>,
}

/// Per-user offline stanza queues.
pub trait Offline {
    /// Stores a stanza unless the user already has `limit` stored (`OfflineFull`).
    /// `NotFound` if the account does not exist.
    fn store_offline(
        &self,
        user: User<'_>,
        from: &str,
        stanza: &[u8],
        stored_at: SystemTime,
        limit: u32,
    ) -> impl Future<Output = Result<OfflineId>> + Send;

    /// Up to `max` oldest stanzas, oldest first, without deleting them.
    fn fetch_offline(
        &self,
        user: User<'_>,
        max: u32,
    ) -> impl Future<Output = Result<Vec<OfflineMessage>>> + Send;

    /// Deletes stored stanzas with an id up to and including `last`; returns how many.
    fn delete_offline_up_to(
        &self,
        user: User<'_>,
        last: OfflineId,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Number of stored stanzas. `NotFound` if the account does not exist.
    fn offline_count(&self, user: User<'_>) -> impl Future<Output = Result<u64>> + Send;
}

type OfflineRow = (i64, String, i64, Vec<u8>);

fn count_from(op: &'static str, count: i64) -> Result<u64> {
    u64::try_from(count).map_err(|_| StorageError::Corrupt {
        op,
        detail: format!("offline count {count}"),
    })
}

impl Offline for Storage {
    async fn store_offline(
        &self,
        user: User<'_>,
        from: &str,
        stanza: &[u8],
        stored_at: SystemTime,
        limit: u32,
    ) -> Result<OfflineId> {
        let err = || StorageError::query("store_offline", "offline stanza");
        let stored_at = to_millis(stored_at);
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            // The counter update takes the account row lock, so two concurrent stores cannot
            // both pass the limit check.
            let counted: Option<i64> = sqlx::query_scalar(
                "UPDATE accounts SET offline_count = offline_count + 1 \
                 WHERE domain = $1 AND username = $2 AND offline_count < $3 \
                 RETURNING offline_count",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(i64::from(limit))
            .fetch_optional(&mut *tx)
            .await
            .map_err(err())?;
            if counted.is_none() {
                let exists: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(1 AS BIGINT) FROM accounts WHERE domain = $1 AND username = $2",
                )
                .bind(user.domain)
                .bind(user.username)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err())?;
                return Err(match exists {
                    Some(_) => StorageError::OfflineFull { limit },
                    None => StorageError::NotFound { what: "account" },
                });
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO offline_messages (domain, username, sender, stored_at, stanza) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(from)
            .bind(stored_at)
            .bind(stanza)
            .fetch_one(&mut *tx)
            .await
            .map_err(err())?;
            tx.commit().await.map_err(err())?;
            Ok(OfflineId(id))
        })
    }

    async fn fetch_offline(&self, user: User<'_>, max: u32) -> Result<Vec<OfflineMessage>> {
        let rows: Vec<OfflineRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, sender, stored_at, stanza FROM offline_messages \
                 WHERE domain = $1 AND username = $2 ORDER BY id LIMIT $3",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(i64::from(max))
            .fetch_all(pool)
            .await
            .map_err(StorageError::query("fetch_offline", "offline stanza"))?
        });
        Ok(rows
            .into_iter()
            .map(|(id, from, stored_at, stanza)| OfflineMessage {
                id: OfflineId(id),
                from,
                stored_at: from_millis(stored_at),
                stanza,
            })
            .collect())
    }

    async fn delete_offline_up_to(&self, user: User<'_>, last: OfflineId) -> Result<u64> {
        let err = || StorageError::query("delete_offline_up_to", "offline stanza");
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            let deleted = sqlx::query(
                "DELETE FROM offline_messages WHERE domain = $1 AND username = $2 AND id <= $3",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(last.0)
            .execute(&mut *tx)
            .await
            .map_err(err())?
            .rows_affected();
            if deleted > 0 {
                sqlx::query(
                    "UPDATE accounts SET offline_count = offline_count - $3 \
                     WHERE domain = $1 AND username = $2",
                )
                .bind(user.domain)
                .bind(user.username)
                .bind(i64::try_from(deleted).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await
                .map_err(err())?;
            }
            tx.commit().await.map_err(err())?;
            Ok(deleted)
        })
    }

    async fn offline_count(&self, user: User<'_>) -> Result<u64> {
        const OP: &str = "offline_count";
        let count: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT offline_count FROM accounts WHERE domain = $1 AND username = $2",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_optional(pool)
            .await
            .map_err(StorageError::query(OP, "account"))?
        });
        count_from(OP, count.ok_or(StorageError::NotFound { what: "account" })?)
    }
}
