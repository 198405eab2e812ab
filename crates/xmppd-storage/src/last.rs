//! XEP-0012 last activity: when the user's last session ended and its unavailable status.

use std::future::Future;
use std::time::SystemTime;

use crate::storage::{from_millis, to_millis};
use crate::{Result, Storage, StorageError, User};

/// The user's last logout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastLogout {
    /// When the last session ended (millisecond precision).
    pub at: SystemTime,
    /// Status text of the final unavailable presence (empty if none).
    pub status: String,
}

/// Per-user last activity.
pub trait LastActivity {
    /// Records a logout. `NotFound` if the account is missing.
    fn set_last_activity(
        &self,
        user: User<'_>,
        last: &LastLogout,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The last recorded logout, if any.
    fn last_activity(
        &self,
        user: User<'_>,
    ) -> impl Future<Output = Result<Option<LastLogout>>> + Send;
}

impl LastActivity for Storage {
    async fn set_last_activity(&self, user: User<'_>, last: &LastLogout) -> Result<()> {
        let at = to_millis(last.at);
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO last_activity (domain, username, logout_at, status) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (domain, username) DO UPDATE SET \
                 logout_at = excluded.logout_at, status = excluded.status",
            )
            .bind(user.domain)
            .bind(user.username)
            .bind(at)
            .bind(&last.status)
            .execute(pool)
            .await
            .map_err(StorageError::query("set_last_activity", "last activity"))?;
        });
        Ok(())
    }

    async fn last_activity(&self, user: User<'_>) -> Result<Option<LastLogout>> {
        let row: Option<(i64, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT logout_at, status FROM last_activity WHERE domain = $1 AND username = $2",
            )
            .bind(user.domain)
            .bind(user.username)
            .fetch_optional(pool)
            .await
            .map_err(StorageError::query("last_activity", "last activity"))?
        });
        Ok(row.map(|(at, status)| LastLogout {
            at: from_millis(at),
            status,
        }))
    }
}
