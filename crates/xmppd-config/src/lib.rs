//! The typed xmppd server configuration (TOML), shared by `xmppd` and `deploy`.
//!
//! `deploy` renders it through these types; `xmppd` loads it with [`Config::load`], which also
//! resolves relative paths against the config file's folder. Every struct rejects unknown keys.

mod archive;
mod contact;
mod error;
mod listeners;
mod modules;
mod s2s;
mod security;
mod server;
mod services;
mod storage;

pub use archive::{ArchiveDefault, Mam};
pub use contact::Contact;
pub use error::ConfigError;
pub use listeners::Listeners;
pub use modules::Module;
pub use s2s::S2s;
pub use security::{Auth, LoginThrottle, SaslMechanism, Tls, TlsVersion};
pub use server::{Limits, LogLevel, Logging, Registration, VirtualHost};
pub use services::{Http, Muc, Proxy65, RoomCreation, Upload};
pub use storage::Storage;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole server configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Bare JIDs with admin rights (ad-hoc admin commands, MOTD, announcements).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admins: Vec<String>,
    /// Folder for the SQLite database and other server state. Relative to the config file.
    pub data_dir: PathBuf,
    /// The XMPP domains this server hosts, each with its certificate.
    #[serde(rename = "vhost")]
    pub vhosts: Vec<VirtualHost>,
    /// Addresses to listen on.
    pub listeners: Listeners,
    /// TLS protocol policy for every TLS listener and outgoing s2s connection.
    #[serde(default)]
    pub tls: Tls,
    /// SASL settings.
    #[serde(default)]
    pub auth: Auth,
    /// Limits on what a stranger can send.
    #[serde(default)]
    pub limits: Limits,
    /// Log settings.
    #[serde(default)]
    pub logging: Logging,
    /// Where accounts, rosters, archives live.
    #[serde(default)]
    pub storage: Storage,
    /// Message of the day, sent as a headline to every user at login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motd: Option<String>,
    /// Welcome message sent to every newly registered account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcome: Option<String>,
    /// Multi-user chat (XEP-0045) component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muc: Option<Muc>,
    /// HTTP file upload (XEP-0363) component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<Upload>,
    /// SOCKS5 bytestream proxy (XEP-0065) component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy65: Option<Proxy65>,
    /// HTTP endpoints served by xmppd itself (BOSH, WebSocket, upload, host-meta, registration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Http>,
    /// Optional features switched on (`deploy` always writes the full list); empty means
    /// xmppd's own defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<Module>,
    /// XEP-0157 contact addresses, announced in the server's disco#info.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Message archives (XEP-0313): retention and page size.
    #[serde(default, skip_serializing_if = "Mam::is_default")]
    pub mam: Mam,
    /// Server-to-server federation: static routes, trusted CAs, limits.
    #[serde(default, skip_serializing_if = "S2s::is_default")]
    pub s2s: S2s,
    /// Threads that run connections and stanza handling; by default one per CPU core. One
    /// thread spends less CPU per stanza at light load (no wake-ups across threads: about 17 %
    /// less per 1:1 message in the bench); more threads carry more load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1024))]
    pub worker_threads: Option<usize>,
}

/// Most worker threads accepted: far beyond any useful count, low enough to catch a typo.
pub const MAX_WORKER_THREADS: usize = 1024;

impl Config {
    /// Parses a config from TOML text; relative paths are left as written.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            message: e.to_string(),
        })
    }

    /// Reads, parses and checks a config file, and resolves relative paths against its folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Self::from_toml(&text)?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        config.resolve_paths(base);
        config.check()?;
        Ok(config)
    }

    /// Serialises to TOML; the inverse of [`Config::from_toml`].
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::Serialize {
            message: e.to_string(),
        })
    }

    /// The JSON schema of this config, as checked in under `schema/xmppd.schema.json`.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(Config);
        let mut text = serde_json::to_string_pretty(&schema).expect("a schema is always JSON");
        text.push('\n');
        text
    }

    /// Makes every relative path absolute against `base` (the config file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.data_dir);
        for vhost in &mut self.vhosts {
            fix(&mut vhost.certificate);
            fix(&mut vhost.key);
        }
        if let Storage::Postgres {
            url_file: Some(f), ..
        } = &mut self.storage
        {
            fix(f);
        }
        if let Storage::Sqlite { path: Some(p) } = &mut self.storage {
            fix(p);
        }
        if let Some(dir) = self.upload.as_mut().and_then(|u| u.dir.as_mut()) {
            fix(dir);
        }
        if let Some(ca) = self.s2s.ca_file.as_mut() {
            fix(ca);
        }
    }

    /// Checks what serde cannot: cross-field rules. Returns every problem at once.
    pub fn check(&self) -> Result<(), ConfigError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid { problems })
        }
    }

    /// Every cross-field problem, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.vhosts.is_empty() {
            problems.push("vhost: at least one virtual host is required".to_owned());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, vhost) in self.vhosts.iter().enumerate() {
            if !server::is_valid_domain(&vhost.domain) {
                problems.push(format!(
                    "vhost[{i}].domain: {:?} is not a valid domain name",
                    vhost.domain
                ));
            }
            if !seen.insert(vhost.domain.to_ascii_lowercase()) {
                problems.push(format!(
                    "vhost[{i}].domain: {} is listed twice",
                    vhost.domain
                ));
            }
        }
        for (i, admin) in self.admins.iter().enumerate() {
            match admin.split_once('@') {
                Some((node, domain))
                    if !node.is_empty() && seen.contains(&domain.to_ascii_lowercase()) => {}
                _ => problems.push(format!(
                    "admins[{i}]: {admin:?} must be a bare JID (user@domain) of a hosted domain"
                )),
            }
        }
        if let Some(n) = self.worker_threads
            && !(1..=MAX_WORKER_THREADS).contains(&n)
        {
            problems.push(format!(
                "worker_threads: {n} is out of range (1 to {MAX_WORKER_THREADS})"
            ));
        }
        problems.extend(self.listeners.problems());
        problems.extend(self.tls.problems());
        problems.extend(self.auth.problems());
        problems.extend(self.s2s.problems());
        problems.extend(self.storage.problems());
        problems.extend(self.contact.iter().flat_map(Contact::problems));
        for (name, domain) in [
            ("muc.domain", self.muc.as_ref().map(|m| &m.domain)),
            ("upload.domain", self.upload.as_ref().map(|u| &u.domain)),
            ("proxy65.domain", self.proxy65.as_ref().map(|p| &p.domain)),
        ] {
            if let Some(domain) = domain {
                if !server::is_valid_domain(domain) {
                    problems.push(format!("{name}: {domain:?} is not a valid domain name"));
                } else if !seen.insert(domain.to_ascii_lowercase()) {
                    problems.push(format!("{name}: {domain} is already used by another host"));
                }
            }
        }
        if self.upload.is_some() && self.http.is_none() {
            problems
                .push("upload: needs an [http] section, uploads are served over HTTP".to_owned());
        }
        if self.upload.is_some() && self.listeners.http.is_empty() {
            problems.push("upload: needs listeners.http, uploads are served over HTTP".to_owned());
        }
        problems
    }

    /// All domains served: virtual hosts first, then component domains.
    pub fn all_domains(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.vhosts.iter().map(|v| v.domain.as_str()).collect();
        out.extend(self.muc.iter().map(|m| m.domain.as_str()));
        out.extend(self.upload.iter().map(|u| u.domain.as_str()));
        out.extend(self.proxy65.iter().map(|p| p.domain.as_str()));
        out
    }
}

#[cfg(test)]
mod tests;
