use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Storage backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "backend", rename_all = "lowercase", deny_unknown_fields)]
pub enum Storage {
    /// One SQLite file (WAL mode), embedded; the default.
    Sqlite {
        /// Database file; defaults to `xmppd.sqlite` in `data_dir`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<PathBuf>,
    },
    /// PostgreSQL, for scale. The URL holds a password, so it is never written in the config:
    /// it is read from a file or an environment variable.
    Postgres {
        /// File whose content is the connection URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url_file: Option<PathBuf>,
        /// Environment variable holding the connection URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url_env: Option<String>,
    },
}

impl Default for Storage {
    fn default() -> Self {
        Self::Sqlite { path: None }
    }
}

impl Storage {
    pub(crate) fn problems(&self) -> Vec<String> {
        match self {
            Self::Postgres {
                url_file: None,
                url_env: None,
            } => vec!["storage: postgres needs url_file or url_env".to_owned()],
            Self::Postgres {
                url_file: Some(_),
                url_env: Some(_),
            } => vec!["storage: give url_file or url_env, not both".to_owned()],
            _ => Vec::new(),
        }
    }
}
