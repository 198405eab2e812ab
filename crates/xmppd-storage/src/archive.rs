//! Message archives (XEP-0313) and their preferences.
//!
//! An archive belongs to an owner named by a bare JID string, so a user's archive and (later) a
//! room's archive share the table and this trait. Entries are ordered by storage; the
//! XEP-0359 stanza id handed to clients is a separate random string, so ids reveal nothing.

use std::future::Future;
use std::time::SystemTime;

use crate::storage::{from_millis, to_millis};
use crate::{Result, Storage, StorageError};

/// One message to archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewArchived<'a> {
    /// Bare JID of the archive's owner.
    pub owner: &'a str,
    /// Stanza id (XEP-0359) under which clients will see it; unique per owner.
    pub stanza_id: &'a str,
    /// Bare JID of the other party (the `with` filter).
    pub with: &'a str,
    /// When it was archived.
    pub stored_at: SystemTime,
    /// The serialised message.
    pub stanza: &'a [u8],
}

/// One archived message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Archived {
    /// Its stanza id.
    pub stanza_id: String,
    /// Bare JID of the other party.
    pub with: String,
    /// When it was archived (millisecond precision).
    pub stored_at: SystemTime,
    /// The serialised message.
    pub stanza: Vec<u8>,
}

/// Where a page starts or ends.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum PageFrom {
    /// From the oldest entry forwards.
    #[default]
    Oldest,
    /// Forwards, after this stanza id.
    After(String),
    /// Backwards, before this stanza id.
    Before(String),
    /// Backwards from the newest entry (RSM `<before/>` with no id: the last page).
    Newest,
}

/// A filtered, paged read of one archive.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ArchiveFilter {
    /// Only entries with this bare JID as the other party.
    pub with: Option<String>,
    /// Only entries stored at or after this time.
    pub start: Option<SystemTime>,
    /// Only entries stored at or before this time.
    pub end: Option<SystemTime>,
    /// Where the page is.
    pub page: PageFrom,
    /// Page size.
    pub max: u32,
}

/// One page of results, always oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchivePage {
    /// The entries.
    pub items: Vec<Archived>,
    /// True when no entry matches beyond this page in the direction of the query.
    pub complete: bool,
    /// How many entries match the filter in all (XEP-0059 `<count/>`), whatever the page.
    pub count: u64,
}

/// Message archives.
pub trait Archive {
    /// Stores messages in one transaction (the archiver writes in batches).
    fn archive_messages(
        &self,
        entries: &[NewArchived<'_>],
    ) -> impl Future<Output = Result<()>> + Send;

    /// One page of an owner's archive. `NotFound` if `After`/`Before` names an unknown id.
    fn archive_page(
        &self,
        owner: &str,
        filter: &ArchiveFilter,
    ) -> impl Future<Output = Result<ArchivePage>> + Send;

    /// Deletes everything stored before `before`, in every archive; returns how many.
    fn prune_archive(&self, before: SystemTime) -> impl Future<Output = Result<u64>> + Send;

    /// Deletes one owner's whole archive and preferences; returns how many messages.
    fn delete_archive(&self, owner: &str) -> impl Future<Output = Result<u64>> + Send;

    /// The owner's preferences, if ever set.
    fn archive_prefs(
        &self,
        owner: &str,
    ) -> impl Future<Output = Result<Option<ArchivePrefs>>> + Send;

    /// Replaces the owner's preferences.
    fn set_archive_prefs(
        &self,
        owner: &str,
        prefs: &ArchivePrefs,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Stored XEP-0313 preferences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchivePrefs {
    /// `always`, `never` or `roster`.
    pub default_mode: String,
    /// JIDs always archived.
    pub always: Vec<String>,
    /// JIDs never archived.
    pub never: Vec<String>,
}

type Row = (i64, String, String, i64, Vec<u8>);

const ERR_OP: &str = "archive";

impl Storage {
    /// The row id of a stanza id in an owner's archive.
    async fn archive_row(&self, owner: &str, stanza_id: &str) -> Result<i64> {
        let id: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT id FROM archive WHERE owner = $1 AND stanza_id = $2")
                .bind(owner)
                .bind(stanza_id)
                .fetch_optional(pool)
                .await
                .map_err(StorageError::query("archive_page", "archived message"))?
        });
        id.ok_or(StorageError::NotFound {
            what: "archived message",
        })
    }
}

impl Archive for Storage {
    async fn archive_messages(&self, entries: &[NewArchived<'_>]) -> Result<()> {
        let err = || StorageError::query("archive_messages", ERR_OP);
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            for entry in entries {
                sqlx::query(
                    "INSERT INTO archive (owner, stanza_id, with_jid, stored_at, stanza) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(entry.owner)
                .bind(entry.stanza_id)
                .bind(entry.with)
                .bind(to_millis(entry.stored_at))
                .bind(entry.stanza)
                .execute(&mut *tx)
                .await
                .map_err(err())?;
            }
            tx.commit().await.map_err(err())?;
        });
        Ok(())
    }

    async fn archive_page(&self, owner: &str, filter: &ArchiveFilter) -> Result<ArchivePage> {
        let (bound, backwards) = match &filter.page {
            PageFrom::Oldest => (None, false),
            PageFrom::Newest => (None, true),
            PageFrom::After(id) => (Some(self.archive_row(owner, id).await?), false),
            PageFrom::Before(id) => (Some(self.archive_row(owner, id).await?), true),
        };
        // One row more than asked tells whether the page is the last one.
        let limit = i64::from(filter.max) + 1;
        let start = filter.start.map(to_millis);
        let end = filter.end.map(to_millis);
        let sql = if backwards {
            "SELECT id, stanza_id, with_jid, stored_at, stanza FROM archive \
             WHERE owner = $1 AND ($2 IS NULL OR with_jid = $2) \
             AND ($3 IS NULL OR stored_at >= $3) AND ($4 IS NULL OR stored_at <= $4) \
             AND ($5 IS NULL OR id < $5) ORDER BY id DESC LIMIT $6"
        } else {
            "SELECT id, stanza_id, with_jid, stored_at, stanza FROM archive \
             WHERE owner = $1 AND ($2 IS NULL OR with_jid = $2) \
             AND ($3 IS NULL OR stored_at >= $3) AND ($4 IS NULL OR stored_at <= $4) \
             AND ($5 IS NULL OR id > $5) ORDER BY id ASC LIMIT $6"
        };
        let mut rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(owner)
                .bind(filter.with.as_deref())
                .bind(start)
                .bind(end)
                .bind(bound)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(StorageError::query("archive_page", ERR_OP))?
        });
        let count: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM archive \
                 WHERE owner = $1 AND ($2 IS NULL OR with_jid = $2) \
                 AND ($3 IS NULL OR stored_at >= $3) AND ($4 IS NULL OR stored_at <= $4)",
            )
            .bind(owner)
            .bind(filter.with.as_deref())
            .bind(start)
            .bind(end)
            .fetch_one(pool)
            .await
            .map_err(StorageError::query("archive_page", ERR_OP))?
        });
        let complete = rows.len() <= filter.max as usize;
        rows.truncate(filter.max as usize);
        if backwards {
            rows.reverse();
        }
        let items = rows
            .into_iter()
            .map(|(_, stanza_id, with, stored_at, stanza)| Archived {
                stanza_id,
                with,
                stored_at: from_millis(stored_at),
                stanza,
            })
            .collect();
        Ok(ArchivePage {
            items,
            complete,
            count: u64::try_from(count).unwrap_or(0),
        })
    }

    async fn prune_archive(&self, before: SystemTime) -> Result<u64> {
        let deleted = with_pool!(self, pool => {
            sqlx::query("DELETE FROM archive WHERE stored_at < $1")
                .bind(to_millis(before))
                .execute(pool)
                .await
                .map_err(StorageError::query("prune_archive", ERR_OP))?
                .rows_affected()
        });
        Ok(deleted)
    }

    async fn delete_archive(&self, owner: &str) -> Result<u64> {
        let err = || StorageError::query("delete_archive", ERR_OP);
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(err())?;
            let deleted = sqlx::query("DELETE FROM archive WHERE owner = $1")
                .bind(owner)
                .execute(&mut *tx)
                .await
                .map_err(err())?
                .rows_affected();
            sqlx::query("DELETE FROM archive_prefs WHERE owner = $1")
                .bind(owner)
                .execute(&mut *tx)
                .await
                .map_err(err())?;
            tx.commit().await.map_err(err())?;
            Ok(deleted)
        })
    }

    async fn archive_prefs(&self, owner: &str) -> Result<Option<ArchivePrefs>> {
        let row: Option<(String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT default_mode, always_jids, never_jids FROM archive_prefs WHERE owner = $1",
            )
            .bind(owner)
            .fetch_optional(pool)
            .await
            .map_err(StorageError::query("archive_prefs", "archive preferences"))?
        });
        let split = |s: String| -> Vec<String> {
            s.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Ok(row.map(|(default_mode, always, never)| ArchivePrefs {
            default_mode,
            always: split(always),
            never: split(never),
        }))
    }

    async fn set_archive_prefs(&self, owner: &str, prefs: &ArchivePrefs) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO archive_prefs (owner, default_mode, always_jids, never_jids) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (owner) DO UPDATE SET \
                 default_mode = excluded.default_mode, always_jids = excluded.always_jids, \
                 never_jids = excluded.never_jids",
            )
            .bind(owner)
            .bind(&prefs.default_mode)
            .bind(prefs.always.join("\n"))
            .bind(prefs.never.join("\n"))
            .execute(pool)
            .await
            .map_err(StorageError::query("set_archive_prefs", "archive preferences"))?;
        });
        Ok(())
    }
}
