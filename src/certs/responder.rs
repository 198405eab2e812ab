//! Answers ACME challenges while an order runs: HTTP-01 (RFC 8555 section 8.3) on the spec's
//! HTTP port, and TLS-ALPN-01 (RFC 8737) on its HTTPS port. Used when nginx does not run yet;
//! HTTP-01 answers are also written to the webroot so a running nginx serves them.

use super::error::CertsError;
use rcgen::{CertificateParams, CustomExtension, KeyPair};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// ALPN protocol of TLS-ALPN-01 (RFC 8737 section 6.2).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";
const CHALLENGE_PATH: &str = "/.well-known/acme-challenge/";

/// HTTP-01 answers: token -> key authorization.
type Tokens = Arc<RwLock<HashMap<String, String>>>;

/// The running responders; dropped (aborted) when the order is done.
#[derive(Debug, Default)]
pub struct Responder {
    tokens: Tokens,
    alpn: Arc<AlpnCerts>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Responder {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Binds `port` on every IPv4 address; `Ok(None)` when something (nginx) already listens.
async fn bind(port: u16) -> Result<Option<TcpListener>, CertsError> {
    let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
    match TcpListener::bind(addr).await {
        Ok(l) => Ok(Some(l)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Ok(None),
        Err(source) => Err(CertsError::AcmeResponder {
            addr: addr.to_string(),
            source,
        }),
    }
}

impl Responder {
    /// Starts the HTTP-01 responder on `port`. Returns false when the port is taken (then the
    /// webroot, served by nginx, must answer).
    pub async fn start_http(&mut self, port: u16) -> Result<bool, CertsError> {
        let Some(listener) = bind(port).await? else {
            return Ok(false);
        };
        let tokens = self.tokens.clone();
        self.tasks.push(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_http(stream, tokens.clone()));
            }
        }));
        Ok(true)
    }

    /// Starts the TLS-ALPN-01 responder on `port`.
    pub async fn start_tls_alpn(&mut self, port: u16) -> Result<(), CertsError> {
        let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
        let listener = bind(port).await?.ok_or_else(|| CertsError::AcmeResponder {
            addr: addr.to_string(),
            source: std::io::ErrorKind::AddrInUse.into(),
        })?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_err(addr, e))?
            .with_no_client_auth()
            .with_cert_resolver(self.alpn.clone());
        config.alpn_protocols = vec![ACME_TLS_ALPN.to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        self.tasks.push(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                // The validation is the handshake itself; close right after it.
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(stream).await {
                        let _ = tls.shutdown().await;
                    }
                });
            }
        }));
        Ok(())
    }

    /// Serves `key_authorization` for `token` over HTTP-01.
    pub fn add_http(&self, token: &str, key_authorization: &str) {
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.to_owned(), key_authorization.to_owned());
    }

    /// Serves a TLS-ALPN-01 certificate for `name` carrying `digest` (SHA-256 of the key
    /// authorization) in the critical acmeIdentifier extension.
    pub fn add_tls_alpn(&self, name: &str, digest: &[u8]) -> Result<(), CertsError> {
        let err = |e: rcgen::Error| CertsError::AcmeChallenge {
            challenge: "tls-alpn-01",
            name: name.to_owned(),
            message: e.to_string(),
        };
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(err)?;
        let mut params = CertificateParams::new(vec![name.to_owned()]).map_err(err)?;
        params
            .custom_extensions
            .push(CustomExtension::new_acme_identifier(digest));
        let cert = params.self_signed(&key).map_err(err)?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signer = rustls::crypto::aws_lc_rs::default_provider()
            .key_provider
            .load_private_key(key_der)
            .map_err(|e| CertsError::AcmeChallenge {
                challenge: "tls-alpn-01",
                name: name.to_owned(),
                message: e.to_string(),
            })?;
        // `CertifiedKey::from_der` would parse the leaf and refuse the critical extension.
        let certified = CertifiedKey::new(vec![cert.der().clone()], signer);
        self.alpn
            .by_name
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_ascii_lowercase(), Arc::new(certified));
        Ok(())
    }
}

fn tls_err(addr: SocketAddr, e: rustls::Error) -> CertsError {
    CertsError::AcmeResponder {
        addr: addr.to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// TLS-ALPN-01 certificates by SNI name.
#[derive(Debug, Default)]
struct AlpnCerts {
    by_name: RwLock<HashMap<String, Arc<CertifiedKey>>>,
}

impl ResolvesServerCert for AlpnCerts {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let acme = hello
            .alpn()
            .is_some_and(|mut protos| protos.any(|p| p == ACME_TLS_ALPN));
        if !acme {
            return None;
        }
        let name = hello.server_name()?.to_ascii_lowercase();
        self.by_name
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name)
            .cloned()
    }
}

/// One HTTP/1.x request: `GET /.well-known/acme-challenge/TOKEN` -> the key authorization.
async fn serve_http(mut stream: TcpStream, tokens: Tokens) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    // Read the request head only; validators send no body. Bounded so nobody can grow it.
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or_default().split(' ');
    let (method, target) = (parts.next(), parts.next().unwrap_or_default());
    let answer = target
        .strip_prefix(CHALLENGE_PATH)
        .filter(|_| method == Some("GET"))
        .and_then(|token| {
            tokens
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(token)
                .cloned()
        });
    let (status, body) = match answer {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", String::new()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
