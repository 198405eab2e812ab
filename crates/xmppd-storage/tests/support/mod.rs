//! What every behaviour gets: a fresh, migrated [`Storage`] on one backend, plus raw access to
//! the same database (row counts, the files on disk) to check what the API cannot show.

pub mod pg;

use std::path::{Path, PathBuf};

use sqlx::{AssertSqlSafe, PgPool, SqlitePool};
use tempfile::TempDir;
use xmppd_storage::{ScramHash, Storage, StorageConfig, StoredCredential, User};

pub use pg::PgServer;

pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

pub struct Ctx {
    pub config: StorageConfig,
    pub storage: Storage,
    raw: Raw,
    raw_dir: PathBuf,
    _tempdir: Option<TempDir>,
}

impl Ctx {
    /// SQLite in a folder that does not exist yet, to exercise its creation.
    pub async fn sqlite() -> Self {
        let tempdir = tempfile::tempdir().expect("tempdir");
        let raw_dir = tempdir.path().join("data");
        let path = raw_dir.join("xmppd.sqlite");
        let config = StorageConfig::Sqlite { path: path.clone() };
        let storage = Storage::open(&config).await.expect("open sqlite");
        let raw = SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("raw sqlite connection");
        Self {
            config,
            storage,
            raw: Raw::Sqlite(raw),
            raw_dir,
            _tempdir: Some(tempdir),
        }
    }

    pub async fn postgres(server: &PgServer, database: &str) -> Self {
        let url = server.create_database(database).await;
        let config = StorageConfig::Postgres {
            url: url.clone(),
            max_connections: Some(4),
        };
        let storage = Storage::open(&config).await.expect("open postgres");
        let raw = PgPool::connect(&url)
            .await
            .expect("raw postgres connection");
        Self {
            config,
            storage,
            raw: Raw::Postgres(raw),
            raw_dir: server.raw_dir(),
            _tempdir: None,
        }
    }

    pub async fn close(self) {
        self.storage.close().await;
        match self.raw {
            Raw::Sqlite(pool) => pool.close().await,
            Raw::Postgres(pool) => pool.close().await,
        }
    }

    /// Opens the same database again (runs the migrator again).
    pub async fn reopen(&self) -> Storage {
        Storage::open(&self.config).await.expect("reopen")
    }

    /// Every application table (migration bookkeeping excluded), from the catalog, so a table
    /// added later is covered without editing the tests.
    pub async fn tables(&self) -> Vec<String> {
        match &self.raw {
            Raw::Sqlite(pool) => sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .expect("list sqlite tables"),
            Raw::Postgres(pool) => sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
                 ORDER BY table_name",
            )
            .fetch_all(pool)
            .await
            .expect("list postgres tables"),
        }
    }

    /// Every column name of every table, `table.column`.
    pub async fn columns(&self) -> Vec<String> {
        let mut columns = Vec::new();
        for table in self.tables().await {
            let names: Vec<String> = match &self.raw {
                Raw::Sqlite(pool) => {
                    sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                        .bind(&table)
                        .fetch_all(pool)
                        .await
                }
                Raw::Postgres(pool) => {
                    sqlx::query_scalar(
                        "SELECT column_name::text FROM information_schema.columns \
                         WHERE table_schema = 'public' AND table_name = $1",
                    )
                    .bind(&table)
                    .fetch_all(pool)
                    .await
                }
            }
            .expect("list columns");
            columns.extend(names.into_iter().map(|c| format!("{table}.{c}")));
        }
        columns
    }

    /// Rows per table that belong to `user`: tables keyed by account have domain and username
    /// columns; archives are keyed by an `owner` JID (rooms share them); service tables such as
    /// MUC rooms have neither and are skipped.
    pub async fn rows_of(&self, user: User<'_>) -> Vec<(String, i64)> {
        let mut counts = Vec::new();
        let columns = self.columns().await;
        let owner = format!("{}@{}", user.username, user.domain);
        for table in self.tables().await {
            let by_owner = columns.contains(&format!("{table}.owner"));
            if !by_owner && !columns.contains(&format!("{table}.username")) {
                continue;
            }
            let (sql, first, second) = if by_owner {
                (
                    format!("SELECT COUNT(*) FROM {table} WHERE owner = $1 AND $2 = $2"),
                    owner.as_str(),
                    user.username,
                )
            } else {
                (
                    format!("SELECT COUNT(*) FROM {table} WHERE domain = $1 AND username = $2"),
                    user.domain,
                    user.username,
                )
            };
            let count: i64 = match &self.raw {
                Raw::Sqlite(pool) => {
                    sqlx::query_scalar(AssertSqlSafe(sql))
                        .bind(first)
                        .bind(second)
                        .fetch_one(pool)
                        .await
                }
                Raw::Postgres(pool) => {
                    sqlx::query_scalar(AssertSqlSafe(sql))
                        .bind(first)
                        .bind(second)
                        .fetch_one(pool)
                        .await
                }
            }
            .unwrap_or_else(|e| panic!("count rows of {table}: {e}"));
            counts.push((table, count));
        }
        counts
    }

    pub async fn applied_migrations(&self) -> i64 {
        let sql = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
        match &self.raw {
            Raw::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Raw::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .expect("count migrations")
    }

    /// Whether `needle` occurs in any file the database keeps on disk (data, WAL, journals).
    pub fn raw_files_contain(&self, needle: &[u8]) -> bool {
        files_contain(&self.raw_dir, needle)
    }
}

fn files_contain(dir: &Path, needle: &[u8]) -> bool {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    entries.flatten().any(|entry| {
        let path = entry.path();
        if path.is_dir() {
            files_contain(&path, needle)
        } else {
            // Sockets and lock files may vanish or be unreadable; they hold no data.
            std::fs::read(&path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        }
    })
}

/// SCRAM verifier derived from a password as RFC 5802 section 3 says.
pub fn scram_credential(hash: ScramHash, password: &str, salt: &[u8]) -> StoredCredential {
    const ITERATIONS: u32 = 4096;
    let (stored_key, server_key) = match hash {
        ScramHash::Sha1 => derive::<sha1::Sha1>(password, salt, ITERATIONS),
        ScramHash::Sha256 => derive::<sha2::Sha256>(password, salt, ITERATIONS),
        ScramHash::Sha512 => derive::<sha2::Sha512>(password, salt, ITERATIONS),
    };
    StoredCredential {
        hash,
        salt: salt.to_vec(),
        iterations: ITERATIONS,
        stored_key,
        server_key,
    }
}

fn derive<D>(password: &str, salt: &[u8], iterations: u32) -> (Vec<u8>, Vec<u8>)
where
    D: hmac::EagerHash + hmac::digest::Digest,
{
    use hmac::{KeyInit, Mac};
    let mut salted = vec![0; <D as hmac::digest::Digest>::output_size()];
    pbkdf2::pbkdf2_hmac::<D>(password.as_bytes(), salt, iterations, &mut salted);
    let hmac = |message: &[u8]| {
        let mut mac = hmac::Hmac::<D>::new_from_slice(&salted).expect("any key length");
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    };
    let client_key = hmac(b"Client Key");
    let stored_key = D::digest(&client_key).to_vec();
    (stored_key, hmac(b"Server Key"))
}
