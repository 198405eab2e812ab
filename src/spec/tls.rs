//! TLS in the spec: where certificates come from, the protocol policy, DH parameters.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Certificates and the TLS policy shared by xmppd (rustls) and nginx (OpenSSL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Where the certificates for the domain and its subdomains come from.
    pub certificates: Certificates,
    /// Policy profile: `modern` (TLS 1.3 only), `intermediate` (Mozilla intermediate: TLS 1.2
    /// with ECDHE AEAD suites, and TLS 1.3) or `custom` (`ciphers`, `curves`, `min_version`).
    #[serde(default)]
    pub profile: TlsProfile,
    /// `custom` only: TLS 1.2 cipher suites by their OpenSSL names, in order of preference.
    #[serde(default)]
    pub ciphers: Option<Vec<String>>,
    /// `custom` only: key-exchange groups by their OpenSSL names (`X25519`, `prime256v1`,
    /// `secp384r1`, `secp521r1`).
    #[serde(default)]
    pub curves: Option<Vec<String>>,
    /// `custom` only: lowest TLS version offered.
    #[serde(default)]
    pub min_version: Option<TlsVersion>,
    /// Diffie-Hellman group for DHE suites: an RFC 7919 group (`ffdhe2048`, `ffdhe3072`,
    /// `ffdhe4096`) or `{generate: {bits: 4096}}` for a freshly generated one.
    #[serde(default)]
    pub dhparam: DhParam,
    /// Refuse client connections that do not use TLS.
    #[serde(default = "yes")]
    pub c2s_require_encryption: bool,
    /// Refuse server connections that do not use TLS.
    #[serde(default = "yes")]
    pub s2s_require_encryption: bool,
    /// Accept server-to-server connections only from servers with valid certificates (no
    /// dialback fallback for self-signed peers).
    #[serde(default = "yes")]
    pub s2s_require_valid_certificates: bool,
}

fn yes() -> bool {
    true
}

/// Where certificates come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Certificates {
    /// `acme` (needs `acme`), `local-ca` (a development CA in the state directory) or `files`
    /// (needs `files`).
    pub source: CertSource,
    /// ACME settings, for `source: acme`.
    #[serde(default)]
    pub acme: Option<Acme>,
    /// Certificate files you bring, for `source: files`.
    #[serde(default)]
    pub files: Option<CertFiles>,
}

/// Certificate source: `acme`, `local-ca` or `files`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CertSource {
    Acme,
    LocalCa,
    Files,
}

/// An ACME account and how to answer its challenges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acme {
    /// ACME directory URL.
    #[serde(default = "default_directory")]
    pub directory: String,
    /// Contact email for the ACME account (expiry warnings).
    pub email: String,
    /// Challenge type: `http-01` (through nginx's webroot) or `tls-alpn-01`.
    #[serde(default)]
    pub challenge: Challenge,
    /// PEM bundle of CAs to trust for the ACME server itself (a test server such as pebble).
    /// Relative to the spec file's folder.
    #[serde(default)]
    pub ca_bundle: Option<PathBuf>,
}

fn default_directory() -> String {
    "https://acme-v02.api.letsencrypt.org/directory".to_owned()
}

/// ACME challenge: `http-01` or `tls-alpn-01`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Challenge {
    #[default]
    #[serde(rename = "http-01")]
    Http01,
    #[serde(rename = "tls-alpn-01")]
    TlsAlpn01,
}

/// A certificate chain and its private key, both PEM; relative to the spec file's folder.
/// The certificate must cover the domain and every service subdomain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertFiles {
    /// Full chain, leaf first.
    pub certificate: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

/// TLS policy profile: `modern`, `intermediate` or `custom`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TlsProfile {
    Modern,
    #[default]
    Intermediate,
    Custom,
}

/// TLS protocol version: `"1.2"` or `"1.3"`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum TlsVersion {
    #[serde(rename = "1.2")]
    Tls12,
    #[serde(rename = "1.3")]
    Tls13,
}

/// DH parameters: an RFC 7919 group name, or `{generate: {bits: N}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum DhParam {
    Named(FfdheGroup),
    Generate {
        /// Generate a fresh group once and keep it in the state directory.
        generate: GenerateDh,
    },
}

impl Default for DhParam {
    fn default() -> Self {
        Self::Named(FfdheGroup::Ffdhe2048)
    }
}

/// RFC 7919 finite-field DH group: `ffdhe2048`, `ffdhe3072` or `ffdhe4096`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FfdheGroup {
    Ffdhe2048,
    Ffdhe3072,
    Ffdhe4096,
}

impl FfdheGroup {
    /// Size of the prime in bits.
    pub fn bits(self) -> u32 {
        match self {
            Self::Ffdhe2048 => 2048,
            Self::Ffdhe3072 => 3072,
            Self::Ffdhe4096 => 4096,
        }
    }
}

/// Size of a DH group to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateDh {
    /// Prime size in bits (2048 to 8192).
    pub bits: u32,
}
