//! The HTTPS front in the spec: BOSH, WebSocket and the security headers nginx adds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The HTTPS front (nginx).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Serve BOSH (XEP-0124/0206) at `https://<domain>/http-bind`.
    #[serde(default = "yes")]
    pub bosh: bool,
    /// Serve XMPP over WebSocket (RFC 7395) at `https://<domain>/xmpp-websocket`.
    #[serde(default = "yes")]
    pub websocket: bool,
    /// Security headers on every HTTPS response; each may be overridden, `null` drops one.
    #[serde(default)]
    pub headers: SecurityHeaders,
}

impl Default for Http {
    fn default() -> Self {
        Self {
            bosh: true,
            websocket: true,
            headers: SecurityHeaders::default(),
        }
    }
}

fn yes() -> bool {
    true
}

/// Security headers; the defaults are the seed server's, modernised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityHeaders {
    /// HTTP Strict Transport Security; `null` turns it off.
    pub hsts: Option<Hsts>,
    /// `X-Content-Type-Options`.
    pub content_type_options: Option<String>,
    /// `Referrer-Policy`.
    pub referrer_policy: Option<String>,
    /// `Content-Security-Policy`.
    pub content_security_policy: Option<String>,
    /// `X-Frame-Options`.
    pub frame_options: Option<String>,
    /// `Permissions-Policy`.
    pub permissions_policy: Option<String>,
    /// Further headers, name to value (`X-Robots-Tag: none`).
    pub extra: BTreeMap<String, String>,
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        Self {
            hsts: Some(Hsts::default()),
            content_type_options: Some("nosniff".to_owned()),
            referrer_policy: Some("no-referrer".to_owned()),
            content_security_policy: Some(
                "default-src 'self'; frame-ancestors 'self'; base-uri 'self'; form-action 'self'; \
                 object-src 'none'"
                    .to_owned(),
            ),
            frame_options: Some("SAMEORIGIN".to_owned()),
            permissions_policy: Some(
                "camera=(), microphone=(), geolocation=(), interest-cohort=()".to_owned(),
            ),
            extra: BTreeMap::new(),
        }
    }
}

/// HTTP Strict Transport Security (RFC 6797).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Hsts {
    /// Seconds browsers remember to use HTTPS only.
    pub max_age: u64,
    /// Also for every subdomain.
    pub include_subdomains: bool,
    /// Ask to be put on browsers' preload lists (hard to undo: opt in knowingly).
    pub preload: bool,
}

impl Default for Hsts {
    fn default() -> Self {
        Self {
            max_age: 31_536_000,
            include_subdomains: true,
            preload: false,
        }
    }
}
