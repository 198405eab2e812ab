//! RFC 6121 section 3.1.3: inbound subscription requests the user has not answered yet
//! (the pending-in part of [`crate::Rosters`]).
//!
//! Kept apart from roster items: the asking contact need not be in the roster, and a pending
//! request is not a roster change (it does not move the XEP-0237 version).

use crate::{Result, Storage, StorageError, User};

/// A subscription request from `contact` that the user has not answered (RFC 6121 3.1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingIn {
    /// Bare JID that asked.
    pub contact: String,
    /// The stored `<presence type='subscribe'/>`, serialised, to deliver again at next login.
    pub stanza: String,
}

/// Bodies of the pending-request methods of [`crate::Rosters`], kept here to keep files small.
impl Storage {
    pub(crate) async fn pending_in_set(
        &self,
        user: User<'_>,
        contact: &str,
        stanza: &str,
    ) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO roster_pending_in (domain, username, contact, stanza) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (domain, username, contact) DO UPDATE SET stanza = excluded.stanza",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(contact)
            .bind(stanza)
            .execute(pool)
            .await
            .map_err(StorageError::query("set_pending_in", "pending subscription"))?;
        });
        Ok(())
    }

    pub(crate) async fn pending_in_remove(&self, user: User<'_>, contact: &str) -> Result<bool> {
        let removed = with_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM roster_pending_in WHERE domain = $1 AND username = $2 AND contact = $3",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(contact)
            .execute(pool)
            .await
            .map_err(StorageError::query("remove_pending_in", "pending subscription"))?
            .rows_affected()
        });
        Ok(removed > 0)
    }

    pub(crate) async fn pending_in_list(&self, user: User<'_>) -> Result<Vec<PendingIn>> {
        let rows: Vec<(String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT contact, stanza FROM roster_pending_in \
                 WHERE domain = $1 AND username = $2 ORDER BY contact",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_all(pool)
            .await
            .map_err(StorageError::query("pending_in", "pending subscription"))?
        });
        Ok(rows
            .into_iter()
            .map(|(contact, stanza)| PendingIn { contact, stanza })
            .collect())
    }
}
