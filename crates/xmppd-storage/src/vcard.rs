//! XEP-0054 vcard-temp: one serialised `<vCard/>` per user.

use std::future::Future;

use crate::{Result, Storage, StorageError, User};

/// Per-user vCards.
pub trait VCards {
    /// Stores (or replaces) the user's vCard. `NotFound` if the account is missing.
    fn set_vcard(&self, user: User<'_>, xml: &str) -> impl Future<Output = Result<()>> + Send;

    /// The user's vCard, if one was stored.
    fn vcard(&self, user: User<'_>) -> impl Future<Output = Result<Option<String>>> + Send;
}

impl VCards for Storage {
    async fn set_vcard(&self, user: User<'_>, xml: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO vcards (domain, username, xml) VALUES ($1, $2, $3) \
                 ON CONFLICT (domain, username) DO UPDATE SET xml = excluded.xml",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(xml)
            .execute(pool)
            .await
            .map_err(StorageError::query("set_vcard", "vCard"))?;
        });
        Ok(())
    }

    async fn vcard(&self, user: User<'_>) -> Result<Option<String>> {
        with_pool!(self, pool => {
            sqlx::query_scalar("SELECT xml FROM vcards WHERE domain = $1 AND username = $2")
                .bind(user.domain)
                .bind(user.username)
                .fetch_optional(pool)
                .await
                .map_err(StorageError::query("vcard", "vCard"))
        })
    }
}
