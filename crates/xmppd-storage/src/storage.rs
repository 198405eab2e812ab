//! The [`Storage`] handle: opens the configured backend and runs its migrations.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{PgPool, SqlitePool};

use crate::{Result, StorageConfig, postgres, sqlite};

/// The server's one storage handle. Cloning is cheap (the pools are reference counted), and
/// every clone may be used from any task.
#[derive(Clone, Debug)]
pub struct Storage {
    pub(crate) backend: Backend,
}

#[derive(Clone, Debug)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A local account: `username` nodeprep'd/lower-cased by the caller, `domain` as served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct User<'a> {
    /// Localpart, already normalised by the caller (this crate compares bytes).
    pub username: &'a str,
    /// Domain the account belongs to.
    pub domain: &'a str,
}

impl<'a> User<'a> {
    /// Names an account.
    pub const fn new(username: &'a str, domain: &'a str) -> Self {
        Self { username, domain }
    }
}

impl Storage {
    /// Opens (creating if needed) the database and applies pending migrations. Safe to call on
    /// an already migrated database: applied migrations are skipped.
    pub async fn open(config: &StorageConfig) -> Result<Self> {
        let backend = match config {
            StorageConfig::Sqlite { path } => Backend::Sqlite(sqlite::open(path).await?),
            StorageConfig::Postgres {
                url,
                max_connections,
            } => Backend::Postgres(postgres::open(url, *max_connections).await?),
        };
        Ok(Self { backend })
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => sqlite::NAME,
            Backend::Postgres(_) => postgres::NAME,
        }
    }

    /// Waits for in-flight queries and closes every connection.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await);
    }
}

/// Milliseconds since the epoch, saturating (times before 1970 are not meaningful here).
pub(crate) fn to_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn from_millis(millis: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_and_saturate() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(from_millis(to_millis(t)), t);
        assert_eq!(to_millis(UNIX_EPOCH - Duration::from_secs(5)), 0);
        assert_eq!(from_millis(-7), UNIX_EPOCH);
    }
}
