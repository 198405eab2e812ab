use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Socket addresses xmppd listens on. An empty list disables that listener.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listeners {
    /// Client connections that start in plain text and upgrade with STARTTLS (RFC 6120).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub c2s_starttls: Vec<SocketAddr>,
    /// Client connections with TLS from the first byte (XEP-0368, ALPN `xmpp-client`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub c2s_direct_tls: Vec<SocketAddr>,
    /// Server-to-server connections with STARTTLS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub s2s: Vec<SocketAddr>,
    /// Server-to-server connections with direct TLS (XEP-0368, ALPN `xmpp-server`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub s2s_direct_tls: Vec<SocketAddr>,
    /// Plain HTTP for BOSH, WebSocket, upload and host-meta; meant to sit behind a TLS proxy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http: Vec<SocketAddr>,
}

impl Listeners {
    pub(crate) fn all(&self) -> impl Iterator<Item = (&'static str, &SocketAddr)> {
        self.c2s_starttls
            .iter()
            .map(|a| ("listeners.c2s_starttls", a))
            .chain(
                self.c2s_direct_tls
                    .iter()
                    .map(|a| ("listeners.c2s_direct_tls", a)),
            )
            .chain(self.s2s.iter().map(|a| ("listeners.s2s", a)))
            .chain(
                self.s2s_direct_tls
                    .iter()
                    .map(|a| ("listeners.s2s_direct_tls", a)),
            )
            .chain(self.http.iter().map(|a| ("listeners.http", a)))
    }

    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.c2s_starttls.is_empty() && self.c2s_direct_tls.is_empty() && self.http.is_empty() {
            problems.push(
                "listeners: no client listener (c2s_starttls, c2s_direct_tls or http)".to_owned(),
            );
        }
        let mut seen: Vec<(&str, &SocketAddr)> = Vec::new();
        for (name, addr) in self.all() {
            if let Some((other, _)) = seen.iter().find(|(_, a)| *a == addr) {
                problems.push(format!("{name}: {addr} is already used by {other}"));
            }
            seen.push((name, addr));
        }
        problems
    }
}
