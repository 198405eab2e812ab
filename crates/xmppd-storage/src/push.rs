//! XEP-0357 push: the app servers an account asked us to notify, per (jid, node).

use std::future::Future;

use crate::{Result, Storage, StorageError, User};

/// One app server registration of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushRegistration {
    /// The app server's JID (the `jid` of `<enable/>`).
    pub jid: String,
    /// The node on the app server that stands for the device.
    pub node: String,
    /// The publish-options form to send with each notification, serialised.
    pub form: Option<String>,
}

/// What [`Pushes::enable_push`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushEnabled {
    /// Stored (new, or replacing the form of the same jid and node).
    Stored,
    /// The account has `max` other registrations already; nothing changed.
    LimitReached,
}

/// Per-account push registrations.
pub trait Pushes {
    /// Stores a registration, replacing the form of an existing one with the same jid and node.
    /// At most `max` registrations per account. `NotFound` if the account is missing.
    fn enable_push(
        &self,
        user: User<'_>,
        registration: &PushRegistration,
        max: u32,
    ) -> impl Future<Output = Result<PushEnabled>> + Send;

    /// Removes the registration for `jid` and `node`, or every one for `jid` when `node` is
    /// `None`. Returns how many were removed.
    fn disable_push(
        &self,
        user: User<'_>,
        jid: &str,
        node: Option<&str>,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Every registration of the account, ordered by jid and node.
    fn push_registrations(
        &self,
        user: User<'_>,
    ) -> impl Future<Output = Result<Vec<PushRegistration>>> + Send;
}

impl Pushes for Storage {
    async fn enable_push(
        &self,
        user: User<'_>,
        registration: &PushRegistration,
        max: u32,
    ) -> Result<PushEnabled> {
        let err = || StorageError::query("enable_push", "push registration");
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            // Writing the account row first takes its lock, so concurrent enables of one
            // account are serialised and cannot both pass the limit check.
            let exists: Option<i64> = sqlx::query_scalar(
                "UPDATE accounts SET offline_count = offline_count \
                 WHERE domain = $1 AND username = $2 RETURNING CAST(1 AS BIGINT)",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err())?;
            if exists.is_none() {
                return Err(StorageError::NotFound { what: "account" });
            }
            let others: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM push_registrations WHERE domain = $1 AND username = $2 \
                 AND NOT (jid = $3 AND node = $4)",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(&registration.jid)
            .bind(&registration.node)
            .fetch_one(&mut *tx)
            .await
            .map_err(err())?;
            if others >= i64::from(max) {
                return Ok(PushEnabled::LimitReached);
            }
            sqlx::query(
                "INSERT INTO push_registrations (domain, username, jid, node, form) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (domain, username, jid, node) DO UPDATE SET form = excluded.form",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(&registration.jid)
            .bind(&registration.node)
            .bind(registration.form.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(err())?;
            tx.commit().await.map_err(err())?;
        });
        Ok(PushEnabled::Stored)
    }

    async fn disable_push(&self, user: User<'_>, jid: &str, node: Option<&str>) -> Result<u64> {
        with_pool!(self, pool => {
            let done = sqlx::query(
                "DELETE FROM push_registrations WHERE domain = $1 AND username = $2 \
                 AND jid = $3 AND ($4 IS NULL OR node = $4)",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(jid)
            .bind(node)
            .execute(pool)
            .await
            .map_err(StorageError::query("disable_push", "push registration"))?;
            Ok(done.rows_affected())
        })
    }

    async fn push_registrations(&self, user: User<'_>) -> Result<Vec<PushRegistration>> {
        let rows: Vec<(String, String, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT jid, node, form FROM push_registrations \
                 WHERE domain = $1 AND username = $2 ORDER BY jid, node",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_all(pool)
            .await
            .map_err(StorageError::query("push_registrations", "push registration"))?
        });
        Ok(rows
            .into_iter()
            .map(|(jid, node, form)| PushRegistration { jid, node, form })
            .collect())
    }
}
