//! PostgreSQL backend for larger deployments. The URL comes from the caller (read from a file
//! or an environment variable); migrations take sqlx's advisory lock, so several servers may
//! start at once.

use std::str::FromStr;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{Result, StorageError};

pub(crate) const NAME: &str = "postgres";

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

pub(crate) async fn open(url: &str, max_connections: Option<u32>) -> Result<PgPool> {
    let open_error = |source| StorageError::Open {
        backend: NAME,
        source,
    };
    let options = PgConnectOptions::from_str(url).map_err(open_error)?;
    let mut pool = PgPoolOptions::new();
    if let Some(max) = max_connections {
        pool = pool.max_connections(max);
    }
    let pool = pool.connect_with(options).await.map_err(open_error)?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|source| StorageError::Migrate {
            backend: NAME,
            source,
        })?;
    Ok(pool)
}
