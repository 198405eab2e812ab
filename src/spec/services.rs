//! Services on subdomains (XEP-0045 MUC, XEP-0363 upload, XEP-0065 proxy), modules, registration.

use super::units::{ByteSize, Duration};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
pub use xmppd_config::Module;

/// Services on subdomains of the XMPP domain; leave one out to turn it off.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Services {
    /// Multi-user chat (XEP-0045).
    #[serde(default)]
    pub muc: Option<Muc>,
    /// HTTP file upload (XEP-0363), served through the HTTPS front.
    #[serde(default)]
    pub upload: Option<Upload>,
    /// SOCKS5 bytestream proxy for file transfer (XEP-0065); its port is `ports.proxy65`.
    #[serde(default)]
    pub proxy65: Option<Proxy65>,
}

/// Multi-user chat (XEP-0045).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Muc {
    /// Subdomain label: `conference` serves `conference.<domain>`.
    #[serde(default = "default_muc_subdomain")]
    pub subdomain: String,
    /// Display name of the service in service discovery.
    #[serde(default = "default_muc_name")]
    pub name: String,
    /// Who may create rooms: `anyone` (also users of other servers), `local` (users of
    /// this domain) or `admins`.
    #[serde(default)]
    pub room_creation: RoomCreation,
    /// Messages of history sent to a user who joins a room.
    #[serde(default = "default_history")]
    #[schemars(range(max = 1000))]
    pub history_length: u32,
    /// Keep a new room locked until its creator configures it (XEP-0045 §10.1.1). `false`
    /// opens it at once with the defaults, for clients that never configure rooms.
    #[serde(default = "default_lock_new_rooms")]
    pub lock_new_rooms: bool,
}

/// Who may create MUC rooms: `anyone`, `local` users, or `admins` only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RoomCreation {
    Anyone,
    #[default]
    Local,
    Admins,
}

/// HTTP file upload (XEP-0363).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// Subdomain label: `upload` serves `upload.<domain>`.
    #[serde(default = "default_upload_subdomain")]
    pub subdomain: String,
    /// Largest file a user may upload. The one upload limit: xmppd announces it and nginx's
    /// `client_max_body_size` is derived from it.
    #[serde(default = "default_max_file_size")]
    pub max_file_size: ByteSize,
    /// Total size of the files one user may keep; `null` for no limit.
    #[serde(default = "default_quota")]
    pub quota_per_user: Option<ByteSize>,
    /// Files are deleted this long after upload (whole days); `null` keeps them forever.
    #[serde(default = "default_expiry")]
    pub expire_after: Option<Duration>,
}

/// SOCKS5 bytestream proxy (XEP-0065).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Proxy65 {
    /// Subdomain label: `proxy` serves `proxy.<domain>`.
    #[serde(default = "default_proxy_subdomain")]
    pub subdomain: String,
}

/// Account registration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// In-band registration from clients (XEP-0077).
    #[serde(default)]
    pub in_band: bool,
    /// A web registration page at `https://<domain>/register/`.
    #[serde(default)]
    pub web: bool,
}

/// The XEP-0479 (Compliance Suites 2023) set for an advanced IM + mobile server.
pub fn default_modules() -> Vec<Module> {
    use Module::*;
    vec![
        Roster,
        Disco,
        Private,
        Vcard,
        Vcard4,
        Blocking,
        Version,
        Uptime,
        Time,
        Ping,
        Pep,
        Caps,
        Bookmarks,
        AdminAdhoc,
        Offline,
        Carbons,
        Mam,
        Csi,
        Push,
        StreamManagement,
        RosterVersioning,
    ]
}

fn default_muc_subdomain() -> String {
    "conference".to_owned()
}
fn default_muc_name() -> String {
    "Chatrooms".to_owned()
}
fn default_lock_new_rooms() -> bool {
    true
}
fn default_history() -> u32 {
    20
}
fn default_upload_subdomain() -> String {
    "upload".to_owned()
}
fn default_max_file_size() -> ByteSize {
    ByteSize(100 * ByteSize::MIB)
}
fn default_quota() -> Option<ByteSize> {
    Some(ByteSize(ByteSize::GIB))
}
fn default_expiry() -> Option<Duration> {
    Duration::parse("30d")
}
fn default_proxy_subdomain() -> String {
    "proxy".to_owned()
}
