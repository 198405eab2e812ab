use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Server-to-server federation (RFC 6120 `jabber:server` streams).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct S2s {
    /// Static routes: remote domain -> `host:port`, used instead of DNS (private federation,
    /// tests). A listed domain is reached only there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub connect_overrides: BTreeMap<String, String>,
    /// Extra CA certificates (PEM) trusted for peers' certificates, besides the public roots.
    /// Relative to the config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Seconds to resolve, connect and authenticate an outgoing link.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Seconds an outgoing link may stay without stanzas before it is closed.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// Incoming server connections open at once (further ones are refused).
    #[serde(default = "default_max_incoming")]
    pub max_incoming: u32,
    /// Stanzas queued per remote domain while its link connects; more bounce.
    #[serde(default = "default_queue")]
    pub queue_size: u32,
}

impl Default for S2s {
    fn default() -> Self {
        Self {
            connect_overrides: BTreeMap::new(),
            ca_file: None,
            connect_timeout_secs: default_connect_timeout(),
            idle_timeout_secs: default_idle_timeout(),
            max_incoming: default_max_incoming(),
            queue_size: default_queue(),
        }
    }
}

fn default_connect_timeout() -> u64 {
    10
}

fn default_idle_timeout() -> u64 {
    600
}

fn default_max_incoming() -> u32 {
    1000
}

fn default_queue() -> u32 {
    256
}

impl S2s {
    /// True when nothing differs from the defaults (then the section is not written).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (domain, target) in &self.connect_overrides {
            if !crate::server::is_valid_domain(domain) {
                problems.push(format!(
                    "s2s.connect_overrides: {domain:?} is not a valid domain name"
                ));
            }
            let port_ok = target
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !port_ok {
                problems.push(format!(
                    "s2s.connect_overrides.{domain}: {target:?} is not host:port"
                ));
            }
        }
        for (name, value) in [
            ("connect_timeout_secs", self.connect_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("max_incoming", u64::from(self.max_incoming)),
            ("queue_size", u64::from(self.queue_size)),
        ] {
            if value == 0 {
                problems.push(format!("s2s.{name}: must be at least 1"));
            }
        }
        problems
    }
}
