//! What a user may write: the deployment spec (YAML), its types and its JSON schema.
//!
//! The doc comments here are the user documentation: they end up in `schema/spec.schema.json`,
//! which editors use for completion (`# yaml-language-server: $schema=...`).
//! Every struct rejects unknown keys.

mod http;
mod runtime;
mod services;
mod tls;
mod units;

pub use http::{Hsts, Http, SecurityHeaders};
pub use runtime::{
    Auth, Engine, Image, Images, Limits, LogLevel, Logging, Postgres, PullPolicy, Runtime,
    SaslMechanism, Storage, StorageBackend,
};
pub use services::{Module, Muc, Proxy65, Registration, RoomCreation, Services, Upload};
pub use tls::{
    Acme, CertFiles, CertSource, Certificates, Challenge, DhParam, FfdheGroup, GenerateDh, Tls,
    TlsProfile, TlsVersion,
};
pub use units::{ByteSize, Duration};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A deployment of the xmppd XMPP server: everything `deploy` needs to render its configs and
/// run it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Name of this deployment; labels the containers, networks and volumes. A DNS label
    /// (lower-case letters, digits, `-`).
    pub name: String,
    /// The XMPP domain: users have addresses `user@<domain>`.
    pub domain: String,
    /// Administrators, as bare JIDs of `domain` (`admin@example.org`).
    #[serde(default)]
    pub admins: Vec<String>,
    /// Public ports. Set a port to `null` to turn that listener off.
    #[serde(default)]
    pub ports: Ports,
    /// Services on subdomains of `domain`: MUC, HTTP upload, SOCKS5 proxy.
    #[serde(default)]
    pub services: Services,
    /// XMPP features (modules) the server offers. Defaults to the XEP-0479 compliance set.
    #[serde(default = "services::default_modules")]
    pub modules: Vec<Module>,
    /// Account registration.
    #[serde(default)]
    pub registration: Registration,
    /// Certificates and the TLS policy for every TLS endpoint (xmppd and nginx).
    pub tls: Tls,
    /// The HTTPS front (nginx): BOSH, WebSocket and security headers.
    #[serde(default)]
    pub http: Http,
    /// Authentication (SASL).
    #[serde(default)]
    pub auth: Auth,
    /// Logging.
    #[serde(default)]
    pub logging: Logging,
    /// Message of the day, sent to every user at login.
    #[serde(default)]
    pub motd: Option<String>,
    /// Welcome message sent to each newly registered account.
    #[serde(default)]
    pub welcome_message: Option<String>,
    /// Where accounts, rosters and archives are stored.
    #[serde(default)]
    pub storage: Storage,
    /// How the deployment runs: engine, images, state directory, limits.
    #[serde(default)]
    pub runtime: Runtime,
}

/// Public ports of the deployment. `null` turns a listener off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Ports {
    /// Client-to-server with STARTTLS (RFC 6120).
    #[schemars(range(min = 1))]
    pub c2s: Option<u16>,
    /// Client-to-server with direct TLS (XEP-0368).
    #[schemars(range(min = 1))]
    pub c2s_direct_tls: Option<u16>,
    /// Server-to-server with STARTTLS.
    #[schemars(range(min = 1))]
    pub s2s: Option<u16>,
    /// Server-to-server with direct TLS (XEP-0368).
    #[schemars(range(min = 1))]
    pub s2s_direct_tls: Option<u16>,
    /// HTTP (nginx): ACME challenges and the redirect to HTTPS.
    #[schemars(range(min = 1))]
    pub http: Option<u16>,
    /// HTTPS (nginx): BOSH, WebSocket, host-meta, upload.
    #[schemars(range(min = 1))]
    pub https: Option<u16>,
    /// SOCKS5 bytestream proxy (XEP-0065), used when `services.proxy65` is set.
    #[schemars(range(min = 1))]
    pub proxy65: Option<u16>,
}

impl Default for Ports {
    fn default() -> Self {
        Self {
            c2s: Some(5222),
            c2s_direct_tls: Some(5223),
            s2s: Some(5269),
            s2s_direct_tls: Some(5270),
            http: Some(80),
            https: Some(443),
            proxy65: Some(5000),
        }
    }
}

impl Spec {
    /// The JSON schema of the spec, as `deploy schema` prints it (ends with a newline).
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(Spec);
        let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The schema as a JSON value, for validation.
    pub fn json_schema_value() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Spec)).unwrap_or_default()
    }
}
