use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Lowest TLS protocol version accepted.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum TlsVersion {
    #[serde(rename = "1.2")]
    Tls12,
    #[serde(rename = "1.3")]
    Tls13,
}

/// TLS policy. Only AEAD suites with forward secrecy exist here: rustls offers nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Lowest protocol version.
    #[serde(default = "default_min_version")]
    pub min_version: TlsVersion,
    /// Cipher suites by their rustls names, in order of preference; empty means all supported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cipher_suites: Vec<String>,
    /// Key exchange groups by their rustls names, in order of preference; empty means defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_exchange_groups: Vec<String>,
    /// Refuse client streams that do not upgrade to TLS before authenticating.
    #[serde(default = "yes")]
    pub c2s_require_encryption: bool,
    /// Refuse server-to-server streams without TLS.
    #[serde(default = "yes")]
    pub s2s_require_encryption: bool,
    /// Federate only with servers whose certificate is valid for their domain.
    #[serde(default = "yes")]
    pub s2s_require_valid_certificates: bool,
}

impl Default for Tls {
    fn default() -> Self {
        Self {
            min_version: default_min_version(),
            cipher_suites: Vec::new(),
            key_exchange_groups: Vec::new(),
            c2s_require_encryption: true,
            s2s_require_encryption: true,
            s2s_require_valid_certificates: true,
        }
    }
}

fn default_min_version() -> TlsVersion {
    TlsVersion::Tls12
}

fn yes() -> bool {
    true
}

/// The cipher suites rustls (aws-lc-rs provider) implements; every one is AEAD with forward secrecy.
pub const SUPPORTED_CIPHER_SUITES: &[&str] = &[
    "TLS13_AES_256_GCM_SHA384",
    "TLS13_AES_128_GCM_SHA256",
    "TLS13_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// The key exchange groups rustls (aws-lc-rs provider) implements.
pub const SUPPORTED_KX_GROUPS: &[&str] = &["X25519MLKEM768", "X25519", "secp256r1", "secp384r1"];

impl Tls {
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (i, suite) in self.cipher_suites.iter().enumerate() {
            if !SUPPORTED_CIPHER_SUITES.contains(&suite.as_str()) {
                problems.push(format!(
                    "tls.cipher_suites[{i}]: unknown suite {suite:?}; known: {}",
                    SUPPORTED_CIPHER_SUITES.join(", ")
                ));
            }
        }
        for (i, group) in self.key_exchange_groups.iter().enumerate() {
            if !SUPPORTED_KX_GROUPS.contains(&group.as_str()) {
                problems.push(format!(
                    "tls.key_exchange_groups[{i}]: unknown group {group:?}; known: {}",
                    SUPPORTED_KX_GROUPS.join(", ")
                ));
            }
        }
        if !self.cipher_suites.is_empty() {
            let has_13 = self.cipher_suites.iter().any(|s| s.starts_with("TLS13_"));
            let has_12 = self.cipher_suites.iter().any(|s| !s.starts_with("TLS13_"));
            if !has_13 {
                problems.push("tls.cipher_suites: lists no TLS 1.3 suite".to_owned());
            }
            if self.min_version == TlsVersion::Tls12 && !has_12 {
                problems.push(
                    "tls.cipher_suites: min_version is 1.2 but no TLS 1.2 suite is listed"
                        .to_owned(),
                );
            }
        }
        problems
    }
}

/// A SASL mechanism xmppd can offer. DIGEST-MD5 is deliberately absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum SaslMechanism {
    #[serde(rename = "SCRAM-SHA-512-PLUS")]
    ScramSha512Plus,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
    #[serde(rename = "SCRAM-SHA-256-PLUS")]
    ScramSha256Plus,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-1-PLUS")]
    ScramSha1Plus,
    #[serde(rename = "SCRAM-SHA-1")]
    ScramSha1,
    /// Only over TLS and only with `allow_plain`.
    #[serde(rename = "PLAIN")]
    Plain,
}

impl SaslMechanism {
    /// The IANA name, as sent in `<mechanism/>`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ScramSha512Plus => "SCRAM-SHA-512-PLUS",
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Self::ScramSha1 => "SCRAM-SHA-1",
            Self::Plain => "PLAIN",
        }
    }
}

/// Authentication settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// Mechanisms offered, in order of preference.
    #[serde(default = "default_mechanisms")]
    pub mechanisms: Vec<SaslMechanism>,
    /// Allow PLAIN (over TLS only). Off by default: SCRAM never sends the password.
    #[serde(default)]
    pub allow_plain: bool,
    /// PBKDF2 iterations for newly stored credentials.
    #[serde(default = "default_iterations")]
    pub scram_iterations: u32,
    /// Throttling of failed logins.
    #[serde(default)]
    pub throttle: LoginThrottle,
}

impl Default for Auth {
    fn default() -> Self {
        Self {
            mechanisms: default_mechanisms(),
            allow_plain: false,
            scram_iterations: default_iterations(),
            throttle: LoginThrottle::default(),
        }
    }
}

fn default_mechanisms() -> Vec<SaslMechanism> {
    vec![
        SaslMechanism::ScramSha512Plus,
        SaslMechanism::ScramSha256Plus,
        SaslMechanism::ScramSha1Plus,
        SaslMechanism::ScramSha512,
        SaslMechanism::ScramSha256,
        SaslMechanism::ScramSha1,
    ]
}

fn default_iterations() -> u32 {
    10_000
}

impl Auth {
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.mechanisms.is_empty() {
            problems.push("auth.mechanisms: at least one mechanism is required".to_owned());
        }
        if self.mechanisms.contains(&SaslMechanism::Plain) && !self.allow_plain {
            problems
                .push("auth.mechanisms: PLAIN is listed but auth.allow_plain is false".to_owned());
        }
        if self.scram_iterations < 4096 {
            problems.push(format!(
                "auth.scram_iterations: {} is below 4096, the minimum RFC 5802 recommends",
                self.scram_iterations
            ));
        }
        problems
    }
}

/// Failed logins allowed per minute before further attempts are refused for a while.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginThrottle {
    /// Failures per account per minute.
    #[serde(default = "default_per_account")]
    pub failures_per_account_per_minute: u32,
    /// Failures per client address per minute.
    #[serde(default = "default_per_address")]
    pub failures_per_address_per_minute: u32,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            failures_per_account_per_minute: default_per_account(),
            failures_per_address_per_minute: default_per_address(),
        }
    }
}

fn default_per_account() -> u32 {
    5
}

fn default_per_address() -> u32 {
    20
}
