//! The SQL behind [`Rosters`]: one counter per account, bumped in the same transaction as the
//! change it versions.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;

use super::{Roster, RosterChange, RosterDelta, RosterItem, RosterVersion, Rosters, Subscription};
use crate::{PendingIn, Result, Storage, StorageError, User};

type ItemRow = (String, Option<String>, String, bool, bool, i64);

const SELECT_ITEMS: &str = "SELECT contact, name, subscription, ask, approved, version \
     FROM roster_items WHERE domain = $1 AND username = $2 AND version > $3";

const BUMP_VERSION: &str = "UPDATE accounts SET roster_version = roster_version + 1 \
     WHERE domain = $1 AND username = $2 RETURNING roster_version";

/// Turns rows plus the user's groups into items, keeping each item's version for ordering.
fn items_from_rows(
    op: &'static str,
    rows: Vec<ItemRow>,
    groups: Vec<(String, String)>,
) -> Result<Vec<(i64, RosterItem)>> {
    let mut by_contact: HashMap<String, Vec<String>> = HashMap::new();
    for (contact, group) in groups {
        by_contact.entry(contact).or_default().push(group);
    }
    rows.into_iter()
        .map(|(jid, name, subscription, ask, approved, version)| {
            let subscription =
                Subscription::parse(&subscription).ok_or_else(|| StorageError::Corrupt {
                    op,
                    detail: format!("subscription {subscription:?}"),
                })?;
            let mut groups = by_contact.remove(&jid).unwrap_or_default();
            groups.sort();
            let item = RosterItem {
                jid,
                name,
                groups,
                subscription,
                ask,
                approved,
            };
            Ok((version, item))
        })
        .collect()
}

impl Storage {
    /// Items changed after `after` (all items for `-1`) and tombstones after `after`, in one
    /// read transaction, plus the version read first: a change racing with this read is sent
    /// again next time rather than lost.
    async fn read_roster(
        &self,
        op: &'static str,
        user: User<'_>,
        after: i64,
    ) -> Result<(RosterVersion, Vec<(i64, RosterItem)>, Vec<(String, i64)>)> {
        let err = || StorageError::query(op, "roster item");
        let (version, rows, groups, removed) = with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            let version: Option<i64> = sqlx::query_scalar(
                "SELECT roster_version FROM accounts WHERE domain = $1 AND username = $2",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err())?;
            let Some(version) = version else {
                return Err(StorageError::NotFound { what: "account" });
            };
            let rows: Vec<ItemRow> = sqlx::query_as(SELECT_ITEMS)
                .bind(user.domain)
                .bind(user.username)
                .bind(after)
                .fetch_all(&mut *tx)
                .await
                .map_err(err())?;
            let groups: Vec<(String, String)> = sqlx::query_as(
                "SELECT contact, group_name FROM roster_groups WHERE domain = $1 AND username = $2",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_all(&mut *tx)
            .await
            .map_err(err())?;
            let removed: Vec<(String, i64)> = sqlx::query_as(
                "SELECT contact, version FROM roster_removed \
                 WHERE domain = $1 AND username = $2 AND version > $3",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(after)
            .fetch_all(&mut *tx)
            .await
            .map_err(err())?;
            tx.commit().await.map_err(err())?;
            (version, rows, groups, removed)
        });
        let items = items_from_rows(op, rows, groups)?;
        Ok((RosterVersion(version), items, removed))
    }
}

impl Rosters for Storage {
    async fn roster(&self, user: User<'_>) -> Result<Roster> {
        let (version, items, _) = self.read_roster("roster", user, -1).await?;
        let mut items: Vec<RosterItem> = items.into_iter().map(|(_, item)| item).collect();
        items.sort_by(|a, b| a.jid.cmp(&b.jid));
        Ok(Roster { version, items })
    }

    async fn roster_item(&self, user: User<'_>, contact: &str) -> Result<Option<RosterItem>> {
        const OP: &str = "roster_item";
        let err = || StorageError::query(OP, "roster item");
        let (rows, groups) = with_pool!(self, pool => {
            let rows: Vec<ItemRow> = sqlx::query_as(
                "SELECT contact, name, subscription, ask, approved, version FROM roster_items \
                 WHERE domain = $1 AND username = $2 AND contact = $3",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(contact)
            .fetch_all(pool)
            .await
            .map_err(err())?;
            let groups: Vec<(String, String)> = sqlx::query_as(
                "SELECT contact, group_name FROM roster_groups \
                 WHERE domain = $1 AND username = $2 AND contact = $3",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(contact)
            .fetch_all(pool)
            .await
            .map_err(err())?;
            (rows, groups)
        });
        Ok(items_from_rows(OP, rows, groups)?
            .into_iter()
            .next()
            .map(|(_, item)| item))
    }

    async fn upsert_roster_item(&self, user: User<'_>, item: &RosterItem) -> Result<RosterVersion> {
        let err = || StorageError::query("upsert_roster_item", "roster item");
        let groups: BTreeSet<&str> = item.groups.iter().map(String::as_str).collect();
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            let version: Option<i64> = sqlx::query_scalar(BUMP_VERSION)
                .bind(user.domain)
                .bind(user.username)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err())?;
            let Some(version) = version else {
                return Err(StorageError::NotFound { what: "account" });
            };
            sqlx::query(
                "INSERT INTO roster_items \
                 (domain, username, contact, name, subscription, ask, approved, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (domain, username, contact) DO UPDATE SET \
                 name = excluded.name, subscription = excluded.subscription, \
                 ask = excluded.ask, approved = excluded.approved, version = excluded.version",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(&item.jid)
            .bind(item.name.as_deref())
            .bind(item.subscription.as_str())
            .bind(item.ask)
            .bind(item.approved)
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(err())?;
            for statement in [
                "DELETE FROM roster_groups WHERE domain = $1 AND username = $2 AND contact = $3",
                "DELETE FROM roster_removed WHERE domain = $1 AND username = $2 AND contact = $3",
            ] {
                sqlx::query(statement)
                    .bind(user.domain)
                    .bind(user.username)
                    .bind(&item.jid)
                    .execute(&mut *tx)
                    .await
                    .map_err(err())?;
            }
            for group in &groups {
                sqlx::query(
                    "INSERT INTO roster_groups (domain, username, contact, group_name) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(user.domain)
                .bind(user.username)
                .bind(&item.jid)
                .bind(*group)
                .execute(&mut *tx)
                .await
                .map_err(err())?;
            }
            tx.commit().await.map_err(err())?;
            Ok(RosterVersion(version))
        })
    }

    async fn remove_roster_item(&self, user: User<'_>, contact: &str) -> Result<RosterVersion> {
        let err = || StorageError::query("remove_roster_item", "roster item");
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            let version: Option<i64> = sqlx::query_scalar(BUMP_VERSION)
                .bind(user.domain)
                .bind(user.username)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err())?;
            let Some(version) = version else {
                return Err(StorageError::NotFound { what: "account" });
            };
            let removed = sqlx::query(
                "DELETE FROM roster_items WHERE domain = $1 AND username = $2 AND contact = $3",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(contact)
            .execute(&mut *tx)
            .await
            .map_err(err())?
            .rows_affected();
            if removed == 0 {
                // Dropping the transaction rolls the version bump back.
                return Err(StorageError::NotFound { what: "roster item" });
            }
            sqlx::query(
                "INSERT INTO roster_removed (domain, username, contact, version) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (domain, username, contact) DO UPDATE SET version = excluded.version",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(contact)
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(err())?;
            tx.commit().await.map_err(err())?;
            Ok(RosterVersion(version))
        })
    }

    async fn roster_version(&self, user: User<'_>) -> Result<RosterVersion> {
        let version: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT roster_version FROM accounts WHERE domain = $1 AND username = $2",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_optional(pool)
            .await
            .map_err(StorageError::query("roster_version", "account"))?
        });
        version
            .map(RosterVersion)
            .ok_or(StorageError::NotFound { what: "account" })
    }

    async fn roster_changes_since(
        &self,
        user: User<'_>,
        since: Option<RosterVersion>,
    ) -> Result<RosterDelta> {
        const OP: &str = "roster_changes_since";
        let current = self.roster_version(user).await?;
        let since = match since {
            Some(since) if since <= current => since,
            // No version, or one from the future (another server, a reset database).
            _ => return self.roster(user).await.map(RosterDelta::Full),
        };
        let (version, items, removed) = self.read_roster(OP, user, since.0).await?;
        let mut changes: Vec<(i64, RosterChange)> = items
            .into_iter()
            .map(|(v, item)| (v, RosterChange::Updated(item)))
            .chain(
                removed
                    .into_iter()
                    .map(|(jid, v)| (v, RosterChange::Removed(jid))),
            )
            .collect();
        changes.sort_by_key(|(v, _)| *v);
        Ok(RosterDelta::Changes {
            version,
            changes: changes.into_iter().map(|(_, change)| change).collect(),
        })
    }

    fn set_pending_in(
        &self,
        user: User<'_>,
        contact: &str,
        stanza: &str,
    ) -> impl Future<Output = Result<()>> + Send {
        self.pending_in_set(user, contact, stanza)
    }

    fn remove_pending_in(
        &self,
        user: User<'_>,
        contact: &str,
    ) -> impl Future<Output = Result<bool>> + Send {
        self.pending_in_remove(user, contact)
    }

    fn pending_in(&self, user: User<'_>) -> impl Future<Output = Result<Vec<PendingIn>>> + Send {
        self.pending_in_list(user)
    }
}
