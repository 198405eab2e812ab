use std::path::PathBuf;

/// Why the server core failed; each variant names the failed step.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("reading certificate {}: {message}", path.display())]
    ReadCertificate { path: PathBuf, message: String },
    #[error("reading private key {}: {message}", path.display())]
    ReadKey { path: PathBuf, message: String },
    #[error("building TLS policy: {0}")]
    TlsPolicy(String),
    #[error("loading the server secret: {0}")]
    Secret(String),
    #[error("opening storage: {0}")]
    Storage(String),
    #[error("binding {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}
