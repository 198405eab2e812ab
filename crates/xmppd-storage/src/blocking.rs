//! Blocklists (XEP-0191) and privacy lists (XEP-0016): what the one blocking engine reads.

use std::future::Future;

use crate::{Result, Storage, StorageError, User};

/// One stored privacy list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPrivacyList {
    /// The list's name.
    pub name: String,
    /// The typed list, serialised.
    pub xml: String,
    /// Whether it is the account's default list.
    pub is_default: bool,
}

/// Per-account blocklists and privacy lists.
pub trait Blocking {
    /// The blocked JIDs, sorted.
    fn blocklist(&self, user: User<'_>) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// Adds JIDs to the blocklist (already blocked ones are kept).
    fn block(&self, user: User<'_>, jids: &[String]) -> impl Future<Output = Result<()>> + Send;

    /// Removes JIDs from the blocklist; an empty slice removes all of them.
    fn unblock(&self, user: User<'_>, jids: &[String]) -> impl Future<Output = Result<()>> + Send;

    /// Every privacy list of the account, by name.
    fn privacy_lists(
        &self,
        user: User<'_>,
    ) -> impl Future<Output = Result<Vec<StoredPrivacyList>>> + Send;

    /// Creates or replaces a list (keeping whether it is the default).
    fn set_privacy_list(
        &self,
        user: User<'_>,
        name: &str,
        xml: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Removes a list; false if there was none of that name.
    fn remove_privacy_list(
        &self,
        user: User<'_>,
        name: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Makes `name` the default list (`None`: no default). `NotFound` for an unknown name.
    fn set_default_privacy_list(
        &self,
        user: User<'_>,
        name: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
}

impl Blocking for Storage {
    async fn blocklist(&self, user: User<'_>) -> Result<Vec<String>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT jid FROM blocklist WHERE domain = $1 AND username = $2 ORDER BY jid",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_all(pool)
            .await
            .map_err(StorageError::query("blocklist", "blocklist"))?
        }))
    }

    async fn block(&self, user: User<'_>, jids: &[String]) -> Result<()> {
        let err = || StorageError::query("block", "blocklist");
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            for jid in jids {
                sqlx::query(
                    "INSERT INTO blocklist (domain, username, jid) VALUES ($1, $2, $3) \
                     ON CONFLICT (domain, username, jid) DO NOTHING",
                )
                .bind(user.domain)
                .bind(user.username)
                .bind(jid)
                .execute(&mut *tx)
                .await
                .map_err(err())?;
            }
            tx.commit().await.map_err(err())?;
        });
        Ok(())
    }

    async fn unblock(&self, user: User<'_>, jids: &[String]) -> Result<()> {
        let err = || StorageError::query("unblock", "blocklist");
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            if jids.is_empty() {
                sqlx::query("DELETE FROM blocklist WHERE domain = $1 AND username = $2")
                    .bind(user.domain)
                    .bind(user.username)
                    .execute(&mut *tx)
                    .await
                    .map_err(err())?;
            }
            for jid in jids {
                sqlx::query(
                    "DELETE FROM blocklist WHERE domain = $1 AND username = $2 AND jid = $3",
                )
                .bind(user.domain)
                .bind(user.username)
                .bind(jid)
                .execute(&mut *tx)
                .await
                .map_err(err())?;
            }
            tx.commit().await.map_err(err())?;
        });
        Ok(())
    }

    async fn privacy_lists(&self, user: User<'_>) -> Result<Vec<StoredPrivacyList>> {
        let rows: Vec<(String, String, bool)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT name, xml, is_default FROM privacy_lists \
                 WHERE domain = $1 AND username = $2 ORDER BY name",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_all(pool)
            .await
            .map_err(StorageError::query("privacy_lists", "privacy list"))?
        });
        Ok(rows
            .into_iter()
            .map(|(name, xml, is_default)| StoredPrivacyList {
                name,
                xml,
                is_default,
            })
            .collect())
    }

    async fn set_privacy_list(&self, user: User<'_>, name: &str, xml: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO privacy_lists (domain, username, name, xml) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (domain, username, name) DO UPDATE SET xml = excluded.xml",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(name)
            .bind(xml)
            .execute(pool)
            .await
            .map_err(StorageError::query("set_privacy_list", "privacy list"))?;
        });
        Ok(())
    }

    async fn remove_privacy_list(&self, user: User<'_>, name: &str) -> Result<bool> {
        let removed = with_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM privacy_lists WHERE domain = $1 AND username = $2 AND name = $3",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(name)
            .execute(pool)
            .await
            .map_err(StorageError::query("remove_privacy_list", "privacy list"))?
            .rows_affected()
        });
        Ok(removed > 0)
    }

    async fn set_default_privacy_list(&self, user: User<'_>, name: Option<&str>) -> Result<()> {
        let err = || StorageError::query("set_default_privacy_list", "privacy list");
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            sqlx::query(
                "UPDATE privacy_lists SET is_default = (name = $3) \
                 WHERE domain = $1 AND username = $2",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(name.unwrap_or_default())
            .execute(&mut *tx)
            .await
            .map_err(err())?;
            if let Some(name) = name {
                let exists: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(1 AS BIGINT) FROM privacy_lists \
                     WHERE domain = $1 AND username = $2 AND name = $3",
                )
                .bind(user.domain)
                .bind(user.username)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err())?;
                if exists.is_none() {
                    return Err(StorageError::NotFound {
                        what: "privacy list",
                    });
                }
            }
            tx.commit().await.map_err(err())?;
            Ok(())
        })
    }
}
