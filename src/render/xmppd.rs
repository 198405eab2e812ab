//! The xmppd config (TOML), built from the typed structs of `xmppd-config` so it cannot drift
//! from what xmppd accepts.

use super::{XMPPD_HTTP_PORT, host_meta::origin, paths};
use crate::error::DeployError;
use crate::model::{Model, Storage};
use crate::spec::{LogLevel, RoomCreation, SaslMechanism, TlsVersion};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use xmppd_config as xc;

/// Where xmppd keeps its data inside its container (a named volume).
pub const DATA_DIR: &str = "/var/lib/xmppd";
/// Shortest password xmppd accepts at registration.
pub const MIN_PASSWORD_LENGTH: usize = 8;
/// Where the PostgreSQL URL file is placed for xmppd, relative to its config.
pub const POSTGRES_URL_FILE: &str = "../secrets/postgres-url";

fn any(port: u16) -> Vec<SocketAddr> {
    vec![SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))]
}

fn listen(port: Option<u16>) -> Vec<SocketAddr> {
    port.map(any).unwrap_or_default()
}

/// Relative to `xmppd/xmppd.toml`, pointing into the shared `tls/` folder.
fn shared(path: &str) -> PathBuf {
    PathBuf::from("..").join(path)
}

pub fn config(model: &Model) -> xc::Config {
    let registration = xc::Registration {
        in_band: model.registration.in_band,
        web: model.registration.web,
        // Stated here: xmppd-config's derived Default gives 0, its serde default is 8.
        min_password_length: MIN_PASSWORD_LENGTH,
    };
    let mut mechanisms: Vec<xc::SaslMechanism> =
        model.auth.mechanisms.iter().map(|m| sasl(*m)).collect();
    if model.auth.allow_plain {
        mechanisms.push(xc::SaslMechanism::Plain);
    }
    let policy = &model.tls.policy;
    let web = model.has_web();
    xc::Config {
        admins: model.admins.clone(),
        data_dir: PathBuf::from(DATA_DIR),
        vhosts: vec![xc::VirtualHost {
            domain: model.domain.to_string(),
            certificate: shared(paths::CERTIFICATE),
            key: shared(paths::PRIVATE_KEY),
            registration,
        }],
        listeners: xc::Listeners {
            c2s_starttls: listen(model.ports.c2s),
            c2s_direct_tls: listen(model.ports.c2s_direct_tls),
            s2s: listen(model.ports.s2s),
            s2s_direct_tls: listen(model.ports.s2s_direct_tls),
            http: if web {
                any(XMPPD_HTTP_PORT)
            } else {
                Vec::new()
            },
        },
        tls: xc::Tls {
            min_version: match policy.min_version {
                TlsVersion::Tls12 => xc::TlsVersion::Tls12,
                TlsVersion::Tls13 => xc::TlsVersion::Tls13,
            },
            cipher_suites: policy
                .rustls_suites
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            key_exchange_groups: policy
                .rustls_groups
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            c2s_require_encryption: model.tls.c2s_require_encryption,
            s2s_require_encryption: model.tls.s2s_require_encryption,
            s2s_require_valid_certificates: model.tls.s2s_require_valid_certificates,
        },
        auth: xc::Auth {
            mechanisms,
            allow_plain: model.auth.allow_plain,
            ..xc::Auth::default()
        },
        limits: xc::Limits {
            max_stanza_bytes: usize::try_from(model.runtime.limits.max_stanza_size.0)
                .unwrap_or(usize::MAX),
            connections_per_ip: model.runtime.limits.connections_per_ip,
            ..xc::Limits::default()
        },
        logging: xc::Logging {
            level: match model.logging.level {
                LogLevel::Error => xc::LogLevel::Error,
                LogLevel::Warn => xc::LogLevel::Warn,
                LogLevel::Info => xc::LogLevel::Info,
                LogLevel::Debug => xc::LogLevel::Debug,
                LogLevel::Trace => xc::LogLevel::Trace,
            },
            log_client_ips: model.logging.client_ips,
        },
        storage: match &model.storage {
            Storage::Sqlite => xc::Storage::Sqlite { path: None },
            Storage::PostgresUrlFile(_) => xc::Storage::Postgres {
                url_file: Some(PathBuf::from(POSTGRES_URL_FILE)),
                url_env: None,
            },
            Storage::PostgresUrlEnv(var) => xc::Storage::Postgres {
                url_file: None,
                url_env: Some(var.clone()),
            },
        },
        motd: model.motd.clone(),
        welcome: model.welcome_message.clone(),
        muc: model.muc.as_ref().map(|m| xc::Muc {
            domain: m.domain.to_string(),
            name: m.name.clone(),
            room_creation: match m.room_creation {
                RoomCreation::Anyone => xc::RoomCreation::Anyone,
                RoomCreation::Local => xc::RoomCreation::Local,
                RoomCreation::Admins => xc::RoomCreation::Admins,
            },
            default_history: m.history_length,
            max_history: m.history_length.max(100),
            lock_new_rooms: m.lock_new_rooms,
        }),
        upload: model.upload.as_ref().map(|u| xc::Upload {
            domain: u.domain.to_string(),
            max_file_bytes: u.max_file_size.0,
            // TOML integers are i64: "no quota" is the largest one.
            quota_bytes_per_user: u.quota_per_user.map_or(i64::MAX as u64, |q| q.0),
            expire_after_days: u.expire_after.map_or(0, |e| {
                u32::try_from(e.seconds.div_ceil(86_400)).unwrap_or(u32::MAX)
            }),
            dir: None,
        }),
        proxy65: model.proxy65.as_ref().map(|p| xc::Proxy65 {
            domain: p.domain.to_string(),
            listen: any(p.port)[0],
            public_host: Some(p.domain.to_string()),
            public_port: None,
            bandwidth_bytes_per_sec: 0,
        }),
        http: web.then(|| xc::Http {
            public_url: origin(model),
            upload_url: model.upload.as_ref().map(|u| match model.ports.https {
                Some(443) | None => format!("https://{}", u.domain),
                Some(port) => format!("https://{}:{port}", u.domain),
            }),
            bosh_path: "/http-bind".to_owned(),
            websocket_path: "/xmpp-websocket".to_owned(),
            trusted_proxies: Vec::new(),
        }),
        modules: model.modules.iter().copied().collect(),
        // The deploy spec has no contact addresses yet.
        contact: None,
        mam: xc::Mam::default(),
        s2s: xc::S2s::default(),
        worker_threads: model
            .runtime
            .worker_threads
            .and_then(|n| usize::try_from(n).ok()),
    }
}

fn sasl(m: SaslMechanism) -> xc::SaslMechanism {
    match m {
        SaslMechanism::ScramSha1 => xc::SaslMechanism::ScramSha1,
        SaslMechanism::ScramSha1Plus => xc::SaslMechanism::ScramSha1Plus,
        SaslMechanism::ScramSha256 => xc::SaslMechanism::ScramSha256,
        SaslMechanism::ScramSha256Plus => xc::SaslMechanism::ScramSha256Plus,
        SaslMechanism::ScramSha512 => xc::SaslMechanism::ScramSha512,
        SaslMechanism::ScramSha512Plus => xc::SaslMechanism::ScramSha512Plus,
    }
}

/// The TOML text; xmppd-config's own checks must pass (a failure is a bug in this mapping).
pub fn render(model: &Model) -> Result<String, DeployError> {
    let config = config(model);
    let problems = config.problems();
    if !problems.is_empty() {
        return Err(DeployError::RenderXmppd {
            message: problems.join("; "),
        });
    }
    let body = config.to_toml().map_err(|e| DeployError::RenderXmppd {
        message: e.to_string(),
    })?;
    Ok(format!(
        "# xmppd config of deployment `{}`, rendered by deploy: edits are overwritten.\n{body}",
        model.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::validate_text;
    use std::path::Path;

    const QUICKSTART: &str = include_str!("../../examples/quickstart.yaml");

    fn muc_of(spec: &str) -> xc::Muc {
        let v = validate_text(spec, Path::new(".")).expect("parses");
        config(v.model.as_ref().expect("valid")).muc.expect("muc")
    }

    #[test]
    fn new_rooms_stay_locked_unless_the_spec_says_otherwise() {
        assert!(QUICKSTART.contains("  muc: {}\n"));
        assert!(muc_of(QUICKSTART).lock_new_rooms);
        let open = QUICKSTART.replace("  muc: {}\n", "  muc:\n    lock_new_rooms: false\n");
        assert!(!muc_of(&open).lock_new_rooms);
    }

    #[test]
    fn worker_threads_pass_through_and_zero_is_refused_where_written() {
        let with = |threads: &str| {
            QUICKSTART.replace(
                "  state_dir: .state/quickstart\n",
                &format!("  state_dir: .state/quickstart\n  worker_threads: {threads}\n"),
            )
        };
        let v = validate_text(QUICKSTART, Path::new(".")).expect("parses");
        assert_eq!(
            config(v.model.as_ref().expect("valid")).worker_threads,
            None
        );
        let v = validate_text(&with("1"), Path::new(".")).expect("parses");
        assert_eq!(
            config(v.model.as_ref().expect("valid")).worker_threads,
            Some(1)
        );
        let v = validate_text(&with("0"), Path::new(".")).expect("parses");
        assert!(v.model.is_none());
        assert!(
            v.diagnostics
                .iter()
                .any(|d| d.path == "runtime.worker_threads"),
            "{:?}",
            v.diagnostics
        );
    }
}
