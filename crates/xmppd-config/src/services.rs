use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Who may create rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoomCreation {
    /// Anyone, local or federated.
    Anyone,
    /// Accounts of this server.
    #[default]
    Local,
    /// Admins only.
    Admins,
}

/// Multi-user chat (XEP-0045).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Muc {
    /// Component domain, e.g. `conference.example.org`.
    pub domain: String,
    /// Display name in service discovery.
    #[serde(default = "default_muc_name")]
    pub name: String,
    /// Who may create rooms.
    #[serde(default)]
    pub room_creation: RoomCreation,
    /// Messages of history sent to a joining occupant by default.
    #[serde(default = "default_history")]
    pub default_history: u32,
    /// Most messages of history a room may be configured to keep.
    #[serde(default = "default_max_history")]
    pub max_history: u32,
    /// Keep a new room locked until its creator configures it (XEP-0045 §10.1.1). Off, a
    /// room opens at once with the default configuration, as Prosody's
    /// `muc_room_locking = false` does; clients that never configure rooms need that.
    #[serde(default = "default_true")]
    pub lock_new_rooms: bool,
}

fn default_muc_name() -> String {
    "Chatrooms".to_owned()
}
fn default_history() -> u32 {
    20
}
fn default_max_history() -> u32 {
    100
}
fn default_true() -> bool {
    true
}

/// HTTP file upload (XEP-0363).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// Component domain, e.g. `upload.example.org`.
    pub domain: String,
    /// Largest file accepted, in bytes.
    pub max_file_bytes: u64,
    /// Total bytes one user may have stored.
    pub quota_bytes_per_user: u64,
    /// Days after which uploaded files are deleted; 0 keeps them.
    #[serde(default)]
    pub expire_after_days: u32,
    /// Folder for uploaded files; defaults to `uploads` in `data_dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
}

/// SOCKS5 bytestream proxy (XEP-0065).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Proxy65 {
    /// Component domain, e.g. `proxy.example.org`.
    pub domain: String,
    /// Address the proxy listens on.
    pub listen: SocketAddr,
    /// Host name clients connect to, if not the listen address (e.g. behind NAT or Docker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_host: Option<String>,
    /// Port clients connect to, if it differs from the listen port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    /// Bytes per second per transfer; 0 means unlimited.
    #[serde(default)]
    pub bandwidth_bytes_per_sec: u64,
}

/// HTTP endpoints served by xmppd behind a TLS-terminating proxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// The public HTTPS base URL clients see, e.g. `https://example.org`.
    pub public_url: String,
    /// Public base URL of the upload service, e.g. `https://upload.example.org`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_url: Option<String>,
    /// Path of the BOSH endpoint (XEP-0206).
    #[serde(default = "default_bosh")]
    pub bosh_path: String,
    /// Path of the WebSocket endpoint (RFC 7395).
    #[serde(default = "default_websocket")]
    pub websocket_path: String,
    /// Trust `X-Forwarded-For` from these proxy addresses (for per-address limits).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

fn default_bosh() -> String {
    "/http-bind".to_owned()
}
fn default_websocket() -> String {
    "/xmpp-websocket".to_owned()
}
