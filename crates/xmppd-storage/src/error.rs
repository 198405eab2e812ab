//! The one error type of this crate; each variant names the step that failed.

use std::path::PathBuf;

/// Every way a storage call can fail.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The SQLite file's folder or the file itself could not be created.
    #[error("creating the database file {path}")]
    CreateFile {
        /// File or folder being created.
        path: PathBuf,
        /// Underlying IO error.
        #[source]
        source: std::io::Error,
    },
    /// The connection pool could not be opened (bad URL, server down, bad file).
    #[error("opening the {backend} database")]
    Open {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// Underlying driver error.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the schema migrations failed.
    #[error("migrating the {backend} database schema")]
    Migrate {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// Underlying migration error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed; `op` names the storage operation.
    #[error("storage operation {op} failed")]
    Query {
        /// Operation name, e.g. `create_account`.
        op: &'static str,
        /// Underlying driver error.
        #[source]
        source: sqlx::Error,
    },
    /// The thing to create exists already (e.g. the account).
    #[error("{what} already exists")]
    AlreadyExists {
        /// What exists.
        what: &'static str,
    },
    /// The thing to read, change or delete does not exist (usually the account).
    #[error("{what} not found")]
    NotFound {
        /// What is missing.
        what: &'static str,
    },
    /// The user's offline store holds `limit` stanzas already.
    #[error("offline storage is full ({limit} stanzas)")]
    OfflineFull {
        /// The limit the caller passed.
        limit: u32,
    },
    /// A credential given to `set_credential` is malformed (key length, iterations).
    #[error("invalid stored credential: {reason}")]
    InvalidCredential {
        /// Which check failed.
        reason: &'static str,
    },
    /// A value read back from the database is not one this crate writes.
    #[error("corrupt value in {op}: {detail}")]
    Corrupt {
        /// Operation that read it.
        op: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// Result alias used by every storage call.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

impl StorageError {
    /// Wraps a driver error of operation `op`, turning constraint violations into
    /// `AlreadyExists` / `NotFound` (a foreign key violation means the account is missing).
    pub(crate) fn query(op: &'static str, what: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| {
            if let sqlx::Error::Database(db) = &source {
                match db.kind() {
                    sqlx::error::ErrorKind::UniqueViolation => {
                        return Self::AlreadyExists { what };
                    }
                    sqlx::error::ErrorKind::ForeignKeyViolation => {
                        return Self::NotFound { what: "account" };
                    }
                    _ => {}
                }
            }
            Self::Query { op, source }
        }
    }
}
