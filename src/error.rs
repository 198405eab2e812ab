//! The one error type of the `deploy` crate; each variant names the step that failed.

use std::path::PathBuf;

/// Why a `deploy` command could not finish.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The spec file (or stdin) could not be read.
    #[error("reading spec {}: {source}", path.display())]
    ReadSpec {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The generated JSON schema could not be compiled (a bug in the spec types).
    #[error("compiling the spec schema: {message}")]
    CompileSchema { message: String },
    /// The xmppd config could not be serialised.
    #[error("rendering the xmppd config: {message}")]
    RenderXmppd { message: String },
    /// The host-meta XRD could not be serialised.
    #[error("rendering host-meta: {message}")]
    RenderHostMeta { message: String },
    /// A rendered file could not be written.
    #[error("writing {}: {source}", path.display())]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
