//! Where the data lives: the backend choice handed to [`crate::Storage::open`].

use std::fmt;
use std::path::PathBuf;

/// Storage backend and its location. The server config crate maps its own section to this.
#[derive(Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// Embedded SQLite in one file; the file and missing parent folders are created with
    /// 0600/0700 permissions.
    Sqlite {
        /// Database file path.
        path: PathBuf,
    },
    /// PostgreSQL server. The URL may hold a password, so the caller reads it from a file or
    /// an environment variable, and `Debug` never prints it.
    Postgres {
        /// `postgres://user:pass@host/db` (or `?host=/socket/dir`).
        url: String,
        /// Pool size; `None` keeps the driver default.
        max_connections: Option<u32>,
    },
}

impl fmt::Debug for StorageConfig {
    // Hand-written so a password in the URL never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Self::Postgres {
                max_connections, ..
            } => f
                .debug_struct("Postgres")
                .field("url", &"<redacted>")
                .field("max_connections", max_connections)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_postgres_url() {
        let config = StorageConfig::Postgres {
            url: "postgres://xmppd:hunter2@db/xmppd".into(),
            max_connections: Some(4),
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("max_connections: Some(4)"), "{shown}");
    }
}
