//! Why an image step failed; each variant names the step.

use std::path::PathBuf;

/// Errors of `deploy images` and of [`super::ensure`].
#[derive(Debug, thiserror::Error)]
pub enum ImagesError {
    /// The async runtime for the engine calls could not start.
    #[error("starting the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The result could not be printed.
    #[error("writing the output: {0}")]
    Output(#[source] std::io::Error),
    /// The Docker engine could not be reached or its API version not agreed.
    #[error("connecting to the Docker engine: {0}")]
    Connect(#[source] bollard::errors::Error),
    /// Asking the engine whether an image exists failed for another reason than "not found".
    #[error("inspecting image {reference}: {source}")]
    Inspect {
        reference: String,
        #[source]
        source: bollard::errors::Error,
    },
    /// The spec names an upstream image with `pull: never` that is not on this engine.
    #[error(
        "the {component} image {reference} (runtime.images.{component}.reference, pull: never) \
         is not present on this Docker engine; load it (`docker load`) or allow a pull with \
         `pull: if-not-present`"
    )]
    UpstreamMissing {
        component: &'static str,
        reference: String,
    },
    /// Pulling an upstream image from its registry failed.
    #[error(
        "pulling the {component} image {reference} (runtime.images.{component}.reference): \
         {detail}"
    )]
    Pull {
        component: &'static str,
        reference: String,
        detail: String,
    },
    /// `cargo` could not be started.
    #[error("starting cargo in {}: {source}", dir.display())]
    SpawnCargo {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The static build of xmppd failed; `tail` holds the last lines cargo printed.
    #[error("building the static xmppd binary failed ({status}):\n{tail}")]
    CargoBuild { status: String, tail: String },
    /// cargo finished but named no xmppd executable.
    #[error("cargo built no xmppd executable (no compiler-artifact with an executable)")]
    CargoNoArtifact,
    /// A file of the image could not be read from the host.
    #[error("reading {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The xmppd binary is dynamically linked, so it cannot run in an empty root.
    #[error(
        "{} is dynamically linked (it names a program interpreter); build it with \
         RUSTFLAGS='-C target-feature=+crt-static' --target x86_64-unknown-linux-gnu",
        path.display()
    )]
    NotStatic { path: PathBuf },
    /// nginx is missing and could not be installed with apt-get.
    #[error("installing nginx-light with apt-get: {message}")]
    InstallNginx { message: String },
    /// `ldd` could not list nginx's libraries.
    #[error("listing the libraries of {} with ldd: {message}", path.display())]
    Ldd { path: PathBuf, message: String },
    /// The root filesystem tarball could not be assembled.
    #[error("assembling the {component} root filesystem: {source}")]
    Tar {
        component: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The engine refused the imported root filesystem.
    #[error("importing the {component} image {reference}: {source}")]
    Import {
        component: &'static str,
        reference: String,
        #[source]
        source: bollard::errors::Error,
    },
}
