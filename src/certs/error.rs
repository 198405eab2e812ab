//! Why the certificate or DH step failed; each variant names the step.

use std::path::PathBuf;

/// Errors of the certificate and DH steps. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    /// The state directory could not be created or given 0700.
    #[error("preparing the state directory {}: {source}", path.display())]
    StateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file could not be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written atomically.
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A certificate or key file does not hold what it should.
    #[error("parsing {what}: {message}")]
    Parse { what: String, message: String },
    /// The local CA or a leaf certificate could not be made.
    #[error("making a certificate with the local CA: {0}")]
    LocalCa(String),
    /// A user-provided certificate failed a check.
    #[error("checking the certificate files: {0}")]
    Files(String),
    /// The ACME server could not be reached or refused the account.
    #[error("ACME: reaching the server at {directory}: {message}")]
    AcmeUnreachable { directory: String, message: String },
    /// The ACME account could not be created or loaded.
    #[error("ACME: loading or creating the account: {0}")]
    AcmeAccount(String),
    /// The ACME server refused to create the order.
    #[error("ACME: the server refused the order for {names}: {message}")]
    AcmeOrderRefused { names: String, message: String },
    /// A challenge could not be answered or was judged invalid.
    #[error("ACME: the {challenge} challenge for {name} failed: {message}")]
    AcmeChallenge {
        challenge: &'static str,
        name: String,
        message: String,
    },
    /// The order did not end with a certificate.
    #[error("ACME: finalizing the order: {0}")]
    AcmeFinalize(String),
    /// The HTTP-01 responder could not listen.
    #[error("ACME: listening for HTTP-01 on {addr}: {source}")]
    AcmeResponder {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// DH parameter generation was asked for an unusable size.
    #[error("generating DH parameters: {0}")]
    Dh(String),
}
