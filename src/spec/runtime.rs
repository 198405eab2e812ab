//! Auth, logging, storage and runtime settings in the spec.

use super::units::ByteSize;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Authentication (SASL, RFC 6120 section 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    /// SASL mechanisms offered, SCRAM family only (no DIGEST-MD5).
    pub mechanisms: Vec<SaslMechanism>,
    /// Also offer PLAIN, only ever over TLS (needed by some old clients and gateways).
    pub allow_plain: bool,
}

impl Default for Auth {
    fn default() -> Self {
        use SaslMechanism::*;
        Self {
            mechanisms: vec![
                ScramSha1,
                ScramSha1Plus,
                ScramSha256,
                ScramSha256Plus,
                ScramSha512,
                ScramSha512Plus,
            ],
            allow_plain: false,
        }
    }
}

/// A SCRAM mechanism (RFC 5802, RFC 7677); `-PLUS` adds channel binding.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum SaslMechanism {
    #[serde(rename = "SCRAM-SHA-1")]
    ScramSha1,
    #[serde(rename = "SCRAM-SHA-1-PLUS")]
    ScramSha1Plus,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-256-PLUS")]
    ScramSha256Plus,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
    #[serde(rename = "SCRAM-SHA-512-PLUS")]
    ScramSha512Plus,
}

/// Logging.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Logging {
    /// Log level: `error`, `warn`, `info`, `debug` or `trace`.
    pub level: LogLevel,
    /// Log client IP addresses (xmppd and nginx access logs). Off by default, for privacy.
    pub client_ips: bool,
}

/// Log level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

/// Where accounts, rosters and archives live.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// `sqlite` (embedded, in the data volume) or `postgres` (needs `postgres`).
    #[serde(default)]
    pub backend: StorageBackend,
    /// PostgreSQL connection, for `backend: postgres`. The URL holds a password, so it is never
    /// written in the spec: name a file or an environment variable that holds it.
    #[serde(default)]
    pub postgres: Option<Postgres>,
}

/// Storage backend: `sqlite` or `postgres`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    #[default]
    Sqlite,
    Postgres,
}

/// Where the PostgreSQL URL comes from: exactly one of `url_file` and `url_env`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Postgres {
    /// File holding the URL (`postgres://user:password@host/db`); relative to the spec folder.
    #[serde(default)]
    pub url_file: Option<PathBuf>,
    /// Environment variable holding the URL.
    #[serde(default)]
    pub url_env: Option<String>,
}

/// How the deployment runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Runtime {
    /// Container engine: `docker`.
    pub engine: Engine,
    /// Image of each component.
    pub images: Images,
    /// Folder for state that must survive (ACME account, certificates, DH group, secrets);
    /// relative to the spec file's folder.
    pub state_dir: PathBuf,
    /// Limits on what a stranger can send.
    pub limits: Limits,
    /// Threads xmppd runs connections on; by default one per CPU core the container may use.
    /// One costs the least CPU per stanza on a small server.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1024))]
    pub worker_threads: Option<u32>,
}

impl Default for Runtime {
    fn default() -> Self {
        Self {
            engine: Engine::Docker,
            images: Images::default(),
            state_dir: PathBuf::from(".state"),
            limits: Limits::default(),
            worker_threads: None,
        }
    }
}

/// Container engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    #[default]
    Docker,
}

/// Images of the components.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Images {
    /// The xmppd server.
    pub xmppd: Image,
    /// The nginx HTTPS front.
    pub nginx: Image,
}

/// A component image: built locally (the default), or an upstream `reference` fetched from a
/// registry as `pull` says. An upstream image must honour the same contract as the built one
/// (binary path, entrypoint, user 10000, data folders): see the README.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Image {
    /// Upstream image reference (`registry.example/xmppd:1.0`, or pinned by digest
    /// `registry.example/xmppd@sha256:...`) instead of a local build.
    pub reference: Option<String>,
    /// When to pull `reference` from its registry (only with `reference`):
    /// `if-not-present` (the default) pulls only when the engine lacks the image, `always`
    /// pulls at every apply (containers are replaced only when the pulled image differs),
    /// `never` uses only what is on the engine.
    pub pull: Option<PullPolicy>,
}

/// When an upstream image is pulled (as in Kubernetes' `imagePullPolicy`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum PullPolicy {
    /// Pull at every apply; a pulled image that equals the running one changes nothing.
    Always,
    /// Pull only when the engine does not have the image.
    #[default]
    IfNotPresent,
    /// Never pull: the image must already be on the engine (`docker load`).
    Never,
}

impl PullPolicy {
    /// The name as written in the spec.
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "always",
            PullPolicy::IfNotPresent => "if-not-present",
            PullPolicy::Never => "never",
        }
    }
}

/// Limits on what a stranger can send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest stanza accepted.
    pub max_stanza_size: ByteSize,
    /// Concurrent connections accepted from one IP address.
    #[schemars(range(min = 1))]
    pub connections_per_ip: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_stanza_size: ByteSize(256 * ByteSize::KIB),
            connections_per_ip: 20,
        }
    }
}
