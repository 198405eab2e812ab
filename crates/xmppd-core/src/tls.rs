//! TLS for every listener: the config's policy mapped onto rustls (aws-lc-rs provider only),
//! certificates chosen by SNI and re-read on demand (SIGHUP) without touching open sessions,
//! and the channel-binding data SCRAM-PLUS needs (RFC 9266, RFC 5929).

use crate::CoreError;
use crate::certs::{self, CertificateInfo};
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::CertificateDer;
use sha2::Digest;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use xmppd_config::{Tls, TlsVersion, VirtualHost};

/// ALPN protocol id for direct-TLS client connections (XEP-0368).
pub const ALPN_XMPP_CLIENT: &[u8] = b"xmpp-client";
/// ALPN protocol id for direct-TLS server connections (XEP-0368).
pub const ALPN_XMPP_SERVER: &[u8] = b"xmpp-server";

/// The crypto provider restricted to the configured suites and groups.
pub fn provider(policy: &Tls) -> Result<CryptoProvider, CoreError> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if !policy.cipher_suites.is_empty() {
        let mut chosen = Vec::new();
        for name in &policy.cipher_suites {
            let suite = provider
                .cipher_suites
                .iter()
                .find(|s| format!("{:?}", s.suite()) == *name)
                .ok_or_else(|| CoreError::TlsPolicy(format!("unknown cipher suite {name}")))?;
            chosen.push(*suite);
        }
        provider.cipher_suites = chosen;
    }
    if !policy.key_exchange_groups.is_empty() {
        let mut chosen = Vec::new();
        for name in &policy.key_exchange_groups {
            let group = provider
                .kx_groups
                .iter()
                .find(|g| format!("{:?}", g.name()) == *name)
                .ok_or_else(|| {
                    CoreError::TlsPolicy(format!("unknown key exchange group {name}"))
                })?;
            chosen.push(*group);
        }
        provider.kx_groups = chosen;
    }
    Ok(provider)
}

static TLS12_AND_13: [&SupportedProtocolVersion; 2] =
    [&rustls::version::TLS13, &rustls::version::TLS12];
static TLS13_ONLY: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];

pub(crate) fn versions(policy: &Tls) -> &'static [&'static SupportedProtocolVersion] {
    match policy.min_version {
        TlsVersion::Tls12 => &TLS12_AND_13,
        TlsVersion::Tls13 => &TLS13_ONLY,
    }
}

/// One certificate as loaded, with what SCRAM-PLUS and `xmppd check` need to know of it.
#[derive(Debug)]
pub struct LoadedCertificate {
    pub key: Arc<CertifiedKey>,
    pub info: CertificateInfo,
    /// RFC 5929 `tls-server-end-point` channel-binding data of the leaf.
    pub end_point_hash: Vec<u8>,
    pub source: PathBuf,
}

/// Certificates by DNS name; the resolver every TLS listener shares.
#[derive(Debug)]
pub struct CertStore {
    vhosts: Vec<VirtualHost>,
    provider: Arc<CryptoProvider>,
    by_name: RwLock<Arc<HashMap<String, Arc<LoadedCertificate>>>>,
    default_domain: String,
}

impl CertStore {
    /// Loads the certificate of every virtual host.
    pub fn load(vhosts: &[VirtualHost], provider: Arc<CryptoProvider>) -> Result<Self, CoreError> {
        let default_domain = vhosts
            .first()
            .map(|v| v.domain.to_ascii_lowercase())
            .ok_or_else(|| CoreError::TlsPolicy("no virtual host".to_owned()))?;
        let store = Self {
            vhosts: vhosts.to_vec(),
            provider,
            by_name: RwLock::new(Arc::new(HashMap::new())),
            default_domain,
        };
        store.reload()?;
        Ok(store)
    }

    /// Re-reads every certificate and key. On any error the old set stays in use, so a bad
    /// renewal never takes the server down; sessions already open keep their TLS state.
    pub fn reload(&self) -> Result<usize, CoreError> {
        let mut by_name = HashMap::new();
        for vhost in &self.vhosts {
            let loaded = Arc::new(self.load_one(vhost)?);
            by_name.insert(vhost.domain.to_ascii_lowercase(), loaded.clone());
            for name in &loaded.info.dns_names {
                by_name
                    .entry(name.clone())
                    .or_insert_with(|| loaded.clone());
            }
        }
        let count = by_name.len();
        *self.by_name.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(by_name);
        Ok(count)
    }

    fn load_one(&self, vhost: &VirtualHost) -> Result<LoadedCertificate, CoreError> {
        let chain = certs::load_chain(&vhost.certificate)?;
        let key_der = certs::load_key(&vhost.key)?;
        let signing_key = self
            .provider
            .key_provider
            .load_private_key(key_der)
            .map_err(|e| CoreError::ReadKey {
                path: vhost.key.clone(),
                message: e.to_string(),
            })?;
        let info = certs::inspect(&chain[0]).map_err(|message| CoreError::ReadCertificate {
            path: vhost.certificate.clone(),
            message,
        })?;
        let end_point_hash = end_point_hash(&chain[0]);
        let key = Arc::new(CertifiedKey::new(chain, signing_key));
        key.keys_match().map_err(|e| CoreError::ReadKey {
            path: vhost.key.clone(),
            message: format!("does not match the certificate: {e}"),
        })?;
        Ok(LoadedCertificate {
            key,
            info,
            end_point_hash,
            source: vhost.certificate.clone(),
        })
    }

    /// The certificate served for `name` (or the first virtual host's, without SNI).
    pub fn lookup(&self, name: Option<&str>) -> Option<Arc<LoadedCertificate>> {
        let map = self
            .by_name
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(name) = name.map(str::to_ascii_lowercase) {
            // Exact names first; then any certificate whose wildcard covers the name.
            let found = map
                .get(&name)
                .or_else(|| map.values().find(|c| c.info.covers(&name)));
            if let Some(found) = found {
                return Some(found.clone());
            }
        }
        map.get(&self.default_domain).cloned()
    }

    /// Every loaded certificate with the names it is registered under.
    pub fn snapshot(&self) -> Arc<HashMap<String, Arc<LoadedCertificate>>> {
        self.by_name
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.lookup(client_hello.server_name())
            .map(|c| c.key.clone())
    }
}

/// A rustls server config for one kind of listener; `alpn` is empty for STARTTLS listeners.
pub fn server_config(
    policy: &Tls,
    provider: Arc<CryptoProvider>,
    store: Arc<CertStore>,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, CoreError> {
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions(policy))
        .map_err(|e| CoreError::TlsPolicy(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(store);
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

/// RFC 5929 §4.1: the leaf certificate hashed with its signature's hash, SHA-256 for MD5/SHA-1.
pub fn end_point_hash(cert: &CertificateDer<'_>) -> Vec<u8> {
    let oid = x509_parser::parse_x509_certificate(cert.as_ref())
        .map(|(_, c)| c.signature_algorithm.algorithm.to_id_string())
        .unwrap_or_default();
    match oid.as_str() {
        // sha384WithRSAEncryption, ecdsa-with-SHA384
        "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => sha2::Sha384::digest(cert).to_vec(),
        // sha512WithRSAEncryption, ecdsa-with-SHA512
        "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => sha2::Sha512::digest(cert).to_vec(),
        _ => sha2::Sha256::digest(cert).to_vec(),
    }
}

/// RFC 9266 `tls-exporter` data; only offered on TLS 1.3, where the exporter is always safe.
pub fn exporter_binding(conn: &rustls::ServerConnection) -> Option<Vec<u8>> {
    if conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
        return None;
    }
    let mut out = vec![0u8; 32];
    conn.export_keying_material(&mut out, b"EXPORTER-Channel-Binding", None)
        .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests;
