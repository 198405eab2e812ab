//! Builds the running server from a config: storage, certificates, TLS configs, the c2s
//! negotiation settings; then binds the listeners.

use crate::CoreError;
use crate::server::Server;
use crate::throttle::{ConnectionSlots, RateWindow};
use crate::tls::{self, CertStore};
use rustls::ServerConfig;
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::net::TcpListener;
use xmppd_config::{Config, Storage as StorageSection};
use xmppd_storage::{Storage, StorageConfig};
use xmppd_stream::c2s::C2sConfig;
use xmppd_stream::sasl::mechanisms::Mechanism;
use xmppd_stream::sasl::scram::UnknownUserKey;

/// How long shutdown waits for sessions to close.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Failed SASL attempts on one connection before it is closed.
const MAX_AUTH_FAILURES: u32 = 3;

/// Everything a connection task needs, shared.
#[derive(Debug)]
pub struct Runtime {
    pub server: Arc<Server>,
    pub certs: Arc<CertStore>,
    pub(crate) c2s: Arc<C2sConfig>,
    pub(crate) starttls: Arc<ServerConfig>,
    pub(crate) direct_tls: Arc<ServerConfig>,
    pub(crate) failures_by_account: RateWindow<String>,
    pub(crate) failures_by_addr: RateWindow<IpAddr>,
    pub(crate) registrations_by_addr: RateWindow<IpAddr>,
    pub(crate) slots: Arc<ConnectionSlots>,
}

/// The storage settings of a config, with the PostgreSQL URL read from its file or variable.
pub fn storage_config(config: &Config) -> Result<StorageConfig, CoreError> {
    match &config.storage {
        StorageSection::Sqlite { path } => Ok(StorageConfig::Sqlite {
            path: path
                .clone()
                .unwrap_or_else(|| config.data_dir.join("xmppd.sqlite")),
        }),
        StorageSection::Postgres { url_file, url_env } => {
            let url = match (url_file, url_env) {
                (Some(file), _) => std::fs::read_to_string(file)
                    .map(|s| s.trim().to_owned())
                    .map_err(|e| CoreError::Storage(format!("reading {}: {e}", file.display())))?,
                (None, Some(var)) => std::env::var(var).map_err(|_| {
                    CoreError::Storage(format!("environment variable {var} is not set"))
                })?,
                (None, None) => {
                    return Err(CoreError::Storage(
                        "postgres needs url_file or url_env".into(),
                    ));
                }
            };
            Ok(StorageConfig::Postgres {
                url,
                max_connections: None,
            })
        }
    }
}

/// Opens the configured storage (running migrations).
pub async fn open_storage(config: &Config) -> Result<Storage, CoreError> {
    Storage::open(&storage_config(config)?)
        .await
        .map_err(|e| CoreError::Storage(e.to_string()))
}

impl Runtime {
    /// Opens storage, loads certificates and prepares TLS and negotiation settings.
    pub async fn new(config: Config) -> Result<Arc<Self>, CoreError> {
        let storage = open_storage(&config).await?;
        Self::with_storage(config, storage)
    }

    /// As [`Runtime::new`], with storage already open.
    pub fn with_storage(config: Config, storage: Storage) -> Result<Arc<Self>, CoreError> {
        let provider = Arc::new(tls::provider(&config.tls)?);
        let certs = Arc::new(CertStore::load(&config.vhosts, provider.clone())?);
        let starttls = tls::server_config(&config.tls, provider.clone(), certs.clone(), &[])?;
        // s2s shares the certificate store, so a reload reaches it too.
        let s2s_tls = crate::s2s::tls::S2sTls::new(&config, provider.clone(), certs.clone())?;
        let direct_tls = tls::server_config(
            &config.tls,
            provider,
            certs.clone(),
            &[tls::ALPN_XMPP_CLIENT],
        )?;
        let mechanisms = config
            .auth
            .mechanisms
            .iter()
            .filter_map(|m| Mechanism::from_name(m.name()))
            .collect();
        let unknown_user = UnknownUserKey {
            secret: unknown_user_secret(&config.data_dir)?,
            iterations: config.auth.scram_iterations,
        };
        let server = Arc::new(Server::new(config, storage));
        let _ = server.s2s.set(Arc::new(crate::s2s::S2s::new(s2s_tls)?));
        crate::im::start_archiver(&server);
        let config = &server.config;
        let mut extra_features = Vec::new();
        if server.enabled(xmppd_config::Module::RosterVersioning) {
            // RFC 6121 §2.6.1: a server that supports versioning says so in its features.
            extra_features
                .push(minidom::Element::builder("ver", "urn:xmpp:features:rosterver").build());
        }
        if server.enabled(xmppd_config::Module::StreamManagement) {
            extra_features.push(xmppd_stream::sm::feature());
        }
        if server.enabled(xmppd_config::Module::Csi) {
            extra_features.push(xmppd_modules::xep0352_csi::feature());
        }
        if server.enabled(xmppd_config::Module::Caps) {
            extra_features.extend(server.caps());
        }
        let c2s = Arc::new(C2sConfig {
            hosts: config
                .vhosts
                .iter()
                .map(|v| v.domain.to_ascii_lowercase())
                .collect::<BTreeSet<_>>(),
            limits: xmppd_stream::Limits {
                max_stanza_bytes: config.limits.max_stanza_bytes,
                ..xmppd_stream::Limits::default()
            },
            require_encryption: config.tls.c2s_require_encryption,
            starttls_available: true,
            mechanisms,
            plain_allowed: config.auth.allow_plain,
            max_auth_failures: MAX_AUTH_FAILURES,
            unknown_user,
            extra_features,
            registration_hosts: config
                .vhosts
                .iter()
                .filter(|v| v.registration.in_band)
                .map(|v| v.domain.to_ascii_lowercase())
                .collect(),
        });
        Ok(Arc::new(Self {
            server,
            certs,
            c2s,
            starttls,
            direct_tls,
            failures_by_account: RateWindow::default(),
            failures_by_addr: RateWindow::default(),
            registrations_by_addr: RateWindow::default(),
            slots: Arc::new(ConnectionSlots::default()),
        }))
    }

    /// Binds every configured client listener and starts accepting. Returns the bound
    /// addresses (useful when the config asked for port 0).
    pub async fn listen(self: &Arc<Self>) -> Result<Vec<(ListenerKind, SocketAddr)>, CoreError> {
        let config = &self.server.config.listeners;
        let mut bound = Vec::new();
        for (kind, addrs) in [
            (ListenerKind::C2sStartTls, &config.c2s_starttls),
            (ListenerKind::C2sDirectTls, &config.c2s_direct_tls),
            (ListenerKind::S2sStartTls, &config.s2s),
            (ListenerKind::S2sDirectTls, &config.s2s_direct_tls),
        ] {
            for addr in addrs {
                let listener = TcpListener::bind(addr)
                    .await
                    .map_err(|source| CoreError::Bind {
                        addr: *addr,
                        source,
                    })?;
                let local = listener.local_addr().map_err(|source| CoreError::Bind {
                    addr: *addr,
                    source,
                })?;
                tracing::info!(%local, ?kind, "listening");
                bound.push((kind, local));
                tokio::spawn(accept_loop(self.clone(), listener, kind));
            }
        }
        Ok(bound)
    }

    /// Tells every client the server is going down (RFC 6120 §4.9.3.21) and waits a moment
    /// for their sessions to end, so their unavailable presence and last writes go out.
    pub async fn shutdown(&self) {
        let sessions = self.server.router.all_sessions();
        for session in &sessions {
            session.close(
                xmppd_stream::StreamError::new(
                    xmpp_parsers::stream_error::DefinedCondition::SystemShutdown,
                )
                .with_text("The server is shutting down"),
            );
        }
        // XEP-0198 sessions waiting for resumption have no connection to close.
        crate::sm::Registry::end_all_detached(&self.server).await;
        if !self.server.router.wait_until_empty(SHUTDOWN_GRACE).await {
            tracing::warn!(
                left = self.server.router.session_count(),
                "sessions still open at shutdown"
            );
        }
    }

    /// Re-reads every certificate (on SIGHUP); open sessions are not touched.
    pub fn reload_certificates(&self) {
        match self.certs.reload() {
            Ok(names) => tracing::info!(names, "certificates reloaded"),
            Err(err) => tracing::error!(%err, "certificate reload failed; keeping the old ones"),
        }
    }
}

/// The secret that makes fake SCRAM salts for unknown users. Kept in the data folder so the
/// fake salt of a name stays the same across restarts (a changing salt would reveal that the
/// account does not exist).
fn unknown_user_secret(data_dir: &std::path::Path) -> Result<[u8; 32], CoreError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join("unknown-user.key");
    let err = |e: std::io::Error| CoreError::Secret(format!("{}: {e}", path.display()));
    if let Some(secret) = std::fs::read(&path)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
    {
        return Ok(secret);
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| CoreError::Secret(e.to_string()))?;
    std::fs::create_dir_all(data_dir).map_err(err)?;
    // Written to a temporary file and renamed, so a crash never leaves half a secret.
    let tmp = data_dir.join("unknown-user.key.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(err)?;
    file.write_all(&secret).map_err(err)?;
    file.sync_all().map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)?;
    Ok(secret)
}

/// Which protocol a listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    C2sStartTls,
    C2sDirectTls,
    S2sStartTls,
    S2sDirectTls,
}

async fn accept_loop(runtime: Arc<Runtime>, listener: TcpListener, kind: ListenerKind) {
    if matches!(kind, ListenerKind::S2sStartTls | ListenerKind::S2sDirectTls) {
        return s2s_accept_loop(runtime, listener, kind).await;
    }
    let limit = runtime.server.config.limits.connections_per_ip;
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%err, "accepting a connection failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = runtime.slots.acquire(peer.ip(), limit) else {
            tracing::debug!(%peer, "refused: too many connections from this address");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let runtime = runtime.clone();
        tokio::spawn(async move {
            crate::c2s::serve(runtime, tcp, peer, kind).await;
            drop(slot);
        });
    }
}

/// Server connections: counted against `s2s.max_incoming` inside the session, not per address
/// (a busy peer server legitimately opens many).
async fn s2s_accept_loop(runtime: Arc<Runtime>, listener: TcpListener, kind: ListenerKind) {
    let direct = kind == ListenerKind::S2sDirectTls;
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(%err, "accepting an s2s connection failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(crate::s2s::serve_incoming(
            runtime.server.clone(),
            tcp,
            peer,
            direct,
        ));
    }
}
