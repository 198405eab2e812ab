//! XEP-0049 private XML storage: one serialised element per (user, namespace).

use std::future::Future;

use crate::{Result, Storage, StorageError, User};

/// Per-user private XML.
pub trait PrivateXml {
    /// Stores (or replaces) the element for `namespace`. `NotFound` if the account is missing.
    fn set_private_xml(
        &self,
        user: User<'_>,
        namespace: &str,
        xml: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The stored element for `namespace`, if any.
    fn private_xml(
        &self,
        user: User<'_>,
        namespace: &str,
    ) -> impl Future<Output = Result<Option<String>>> + Send;
}

impl PrivateXml for Storage {
    async fn set_private_xml(&self, user: User<'_>, namespace: &str, xml: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO private_xml (domain, username, namespace, xml) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (domain, username, namespace) DO UPDATE SET xml = excluded.xml",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(namespace)
            .bind(xml)
            .execute(pool)
            .await
            .map_err(StorageError::query("set_private_xml", "private XML"))?;
        });
        Ok(())
    }

    async fn private_xml(&self, user: User<'_>, namespace: &str) -> Result<Option<String>> {
        with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT xml FROM private_xml WHERE domain = $1 AND username = $2 AND namespace = $3",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(namespace)
            .fetch_optional(pool)
            .await
            .map_err(StorageError::query("private_xml", "private XML"))
        })
    }
}
