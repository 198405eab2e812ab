use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One hosted XMPP domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VirtualHost {
    /// The domain, e.g. `example.org`; accounts are `user@domain`.
    pub domain: String,
    /// PEM certificate chain (leaf first) covering the domain and its service subdomains.
    pub certificate: PathBuf,
    /// PEM private key of the certificate; must be readable by xmppd only.
    pub key: PathBuf,
    /// Account registration.
    #[serde(default)]
    pub registration: Registration,
}

/// Who may create accounts, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// In-band registration (XEP-0077) for strangers. Password change and account removal are
    /// always available to logged-in users.
    #[serde(default)]
    pub in_band: bool,
    /// The web registration page on the HTTP listener.
    #[serde(default)]
    pub web: bool,
    /// Shortest password accepted at registration and password change.
    #[serde(
        default = "default_min_password",
        skip_serializing_if = "is_default_min_password"
    )]
    pub min_password_length: usize,
}

impl Default for Registration {
    fn default() -> Self {
        Self {
            in_band: false,
            web: false,
            min_password_length: default_min_password(),
        }
    }
}

fn default_min_password() -> usize {
    8
}

fn is_default_min_password(n: &usize) -> bool {
    *n == default_min_password()
}

/// Limits on what a stranger can send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest stanza accepted, in bytes; larger ones close the stream with `policy-violation`.
    #[serde(default = "default_max_stanza")]
    pub max_stanza_bytes: usize,
    /// Concurrent connections from one IP address.
    #[serde(default = "default_connections_per_ip")]
    pub connections_per_ip: u32,
    /// Concurrent resources per account.
    #[serde(default = "default_resources")]
    pub resources_per_account: u32,
    /// Messages kept in offline storage per account; more are refused with an error.
    #[serde(default = "default_offline")]
    pub offline_messages_per_account: u32,
    /// Seconds a connection may stay unauthenticated.
    #[serde(default = "default_auth_timeout")]
    pub unauthenticated_timeout_secs: u64,
    /// Seconds of silence after which the server sends a whitespace keepalive (RFC 6120
    /// §4.6.1), so dead connections are noticed and NAT mappings stay open.
    #[serde(default = "default_keepalive")]
    pub keepalive_secs: u64,
    /// Seconds a XEP-0198 session waits for its client to resume after the connection dropped;
    /// afterwards its unacknowledged messages go to offline storage. Clients may ask for less.
    #[serde(default = "default_sm_resume_timeout")]
    pub sm_resume_timeout_secs: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_stanza_bytes: default_max_stanza(),
            connections_per_ip: default_connections_per_ip(),
            resources_per_account: default_resources(),
            offline_messages_per_account: default_offline(),
            unauthenticated_timeout_secs: default_auth_timeout(),
            keepalive_secs: default_keepalive(),
            sm_resume_timeout_secs: default_sm_resume_timeout(),
        }
    }
}

fn default_max_stanza() -> usize {
    256 * 1024
}
fn default_connections_per_ip() -> u32 {
    20
}
fn default_resources() -> u32 {
    10
}
fn default_offline() -> u32 {
    500
}
fn default_auth_timeout() -> u64 {
    30
}
fn default_keepalive() -> u64 {
    60
}
fn default_sm_resume_timeout() -> u32 {
    300
}

/// Log verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// The name tracing's filter understands.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

/// Log settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    /// Verbosity.
    #[serde(default)]
    pub level: LogLevel,
    /// Write client IP addresses into the log. Off by default: the addresses of the people
    /// using a server are theirs.
    #[serde(default)]
    pub log_client_ips: bool,
}

/// A DNS name of letters, digits and hyphens in dot-separated labels of 1 to 63 characters.
pub(crate) fn is_valid_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
