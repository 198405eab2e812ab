//! Embedded SQLite backend: one private file (0600 in a 0700 folder), WAL journal, foreign
//! keys on, a busy timeout so concurrent writers wait instead of failing.
//!
//! Every write transaction in this crate starts with a write statement, so SQLite takes the
//! write lock up front; a transaction that read first and wrote later could fail with
//! `SQLITE_BUSY` at the upgrade instead of waiting for the busy timeout.

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use crate::{Result, StorageError};

pub(crate) const NAME: &str = "sqlite";

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a connection waits for another writer's lock before reporting busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) async fn open(path: &Path) -> Result<SqlitePool> {
    create_private_file(path)?;
    // Neither SQLite nor sqlx serialises a fresh file's set-up: two processes opening it at once
    // (two `xmppd adduser`, or one beside `xmppd run`) would race on the switch to WAL, which
    // SQLite can refuse at once with SQLITE_BUSY (two shared locks both wanting to upgrade is a
    // deadlock, so the busy timeout does not apply), and then on creating the same tables.
    let guard = setup_lock(path).await?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .connect_with(options)
        .await
        .map_err(|source| StorageError::Open {
            backend: NAME,
            source,
        })?;
    let migrated = MIGRATOR.run(&pool).await;
    drop(guard);
    migrated.map_err(|source| StorageError::Migrate {
        backend: NAME,
        source,
    })?;
    Ok(pool)
}

/// An exclusive `flock` on `<database>.migrate-lock`, held while the first connection switches
/// to WAL and the migrations run. Waiting for it
/// happens on a blocking thread, so a waiting process (or task) never stalls the async workers.
async fn setup_lock(path: &Path) -> Result<std::fs::File> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".migrate-lock");
    let lock_path = std::path::PathBuf::from(lock_path);
    let open_err = |source| StorageError::CreateFile {
        path: lock_path.clone(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock_path)
        .map_err(open_err)?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| open_err(std::io::Error::other(e)))?
        .map_err(open_err)
}

/// Creates missing folders (0700) and the file (0600) ourselves, so SQLite never creates them
/// with the umask's wider defaults; SQLite gives its -wal/-shm files the main file's mode.
/// Existing folders and files are left as they are. Blocking IO is fine: this runs once at start.
fn create_private_file(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|source| StorageError::CreateFile {
                path: parent.to_path_buf(),
                source,
            })?;
    }
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|source| StorageError::CreateFile {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(())
}
