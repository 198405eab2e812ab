//! Container images built with no registry (issue 5): xmppd as a static binary in an empty
//! root, nginx as a minimal root made from Debian's nginx. Each root is assembled in memory as
//! a deterministic tarball and imported through the engine's import API; the tag is a prefix
//! of the content hash, so unchanged inputs give the same tag and [`ensure`] skips the import
//! when that tag exists. A spec may name upstream images instead
//! (`runtime.images.<component>.reference`), pulled as their policy says (`pull.rs`).

mod cargo;
pub mod command;
mod engine;
mod error;
pub mod nginx;
pub mod pull;
pub mod rootfs;
pub mod xmppd;

pub use cargo::{TARGET, build_xmppd};
pub use engine::{connect, exists, import};
pub use error::ImagesError;
pub use pull::{ensure_upstream, image_id, needs_pull};
pub use rootfs::XMPPD_UID;

use crate::model::Model;
use bollard::Docker;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Label naming the component an image (and later a container) belongs to.
pub const LABEL_COMPONENT: &str = "org.xmppd.deploy.component";
/// Label holding the full SHA-256 of the image's root tarball and settings.
pub const LABEL_CONTENT_HASH: &str = "org.xmppd.deploy.content-hash";
/// Repository of locally built xmppd images.
pub const XMPPD_REPO: &str = "xmppd-deploy/xmppd";
/// Repository of locally built nginx images.
pub const NGINX_REPO: &str = "xmppd-deploy/nginx";
/// Hex digits of the content hash used as the tag.
const TAG_LEN: usize = 16;

/// Where the xmppd binary comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmppdSource {
    /// A static binary built earlier (`--xmppd-binary`).
    Binary(PathBuf),
    /// Build it with cargo in this workspace folder.
    Build { workspace: PathBuf },
}

/// How [`ensure`] gets its inputs.
#[derive(Debug, Clone)]
pub struct Options {
    pub xmppd: XmppdSource,
    /// Show spinners on stderr.
    pub progress: bool,
}

impl Options {
    /// Builds xmppd from the workspace `deploy` itself was built from.
    pub fn from_workspace(progress: bool) -> Self {
        Self {
            xmppd: XmppdSource::Build {
                workspace: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            },
            progress,
        }
    }
}

/// What [`ensure`] did for one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Imported now.
    Built,
    /// The content-hash tag existed already: nothing done.
    Present,
    /// The spec names an upstream image, and it is on the engine (not pulled).
    Upstream,
    /// The spec names an upstream image, pulled now.
    Pulled,
}

/// An image ready on the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `repo:tag` to create containers from.
    pub reference: String,
    pub outcome: Outcome,
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.outcome {
            Outcome::Built => "built",
            Outcome::Present => "up to date",
            Outcome::Upstream => "upstream, present",
            Outcome::Pulled => "upstream, pulled",
        };
        write!(f, "{} ({what})", self.reference)
    }
}

/// The images a deployment runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRefs {
    pub xmppd: ImageRef,
    /// Only when the deployment serves HTTP (the model has web services).
    pub nginx: Option<ImageRef>,
}

/// Makes sure every image `model` needs is on the engine: upstream references are pulled as
/// their policy says, local images are built only when their content-hash tag is missing.
pub async fn ensure(
    docker: &Docker,
    model: &Model,
    options: &Options,
) -> Result<ImageRefs, ImagesError> {
    let images = &model.runtime.images;
    let xmppd = match images.xmppd.upstream() {
        Some(u) => ensure_upstream(docker, "xmppd", u, options.progress).await?,
        None => ensure_xmppd(docker, options).await?,
    };
    let nginx = if model.has_web() {
        Some(match images.nginx.upstream() {
            Some(u) => ensure_upstream(docker, "nginx", u, options.progress).await?,
            None => ensure_nginx(docker, options.progress).await?,
        })
    } else {
        None
    };
    Ok(ImageRefs { xmppd, nginx })
}

/// The xmppd image, from a prebuilt binary or a fresh static build.
pub async fn ensure_xmppd(docker: &Docker, options: &Options) -> Result<ImageRef, ImagesError> {
    let prepared = prepare_xmppd(options).await?;
    import_prepared(docker, prepared, options.progress).await
}

/// The nginx image, from the host's Debian nginx (installed with apt-get when missing).
pub async fn ensure_nginx(docker: &Docker, progress: bool) -> Result<ImageRef, ImagesError> {
    let prepared = prepare_nginx().await?;
    import_prepared(docker, prepared, progress).await
}

/// A locally built image as [`ensure`] would import it, computed without the engine: `plan`
/// knows the tag (so whether the image exists) before anything is imported.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub component: &'static str,
    repo: &'static str,
    hash: String,
    tar: Vec<u8>,
    changes: Vec<String>,
}

impl Prepared {
    /// `repo:tag`, the tag a prefix of the content hash.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.repo, &self.hash[..TAG_LEN])
    }
}

/// The xmppd root, tarred and hashed (building the binary first when so configured).
pub async fn prepare_xmppd(options: &Options) -> Result<Prepared, ImagesError> {
    let binary = match &options.xmppd {
        XmppdSource::Binary(path) => path.clone(),
        XmppdSource::Build { workspace } => {
            let (workspace, progress) = (workspace.clone(), options.progress);
            blocking(move || build_xmppd(&workspace, progress)).await?
        }
    };
    let root = blocking(move || xmppd::rootfs(&binary)).await?;
    prepare_root("xmppd", XMPPD_REPO, root, xmppd::changes()).await
}

/// The nginx root, tarred and hashed.
pub async fn prepare_nginx() -> Result<Prepared, ImagesError> {
    let root = blocking(|| {
        nginx::install_if_missing()?;
        nginx::rootfs()
    })
    .await?;
    prepare_root("nginx", NGINX_REPO, root, nginx::changes()).await
}

async fn prepare_root(
    component: &'static str,
    repo: &'static str,
    root: rootfs::Rootfs,
    changes: Vec<String>,
) -> Result<Prepared, ImagesError> {
    let tar = blocking(move || {
        root.tar()
            .map_err(|source| ImagesError::Tar { component, source })
    })
    .await?;
    let hash = rootfs::content_hash(&tar, &changes);
    Ok(Prepared {
        component,
        repo,
        hash,
        tar,
        changes,
    })
}

/// Imports a prepared image unless its content-hash tag exists already.
pub async fn import_prepared(
    docker: &Docker,
    prepared: Prepared,
    progress: bool,
) -> Result<ImageRef, ImagesError> {
    let reference = prepared.reference();
    if exists(docker, &reference).await? {
        return Ok(ImageRef {
            reference,
            outcome: Outcome::Present,
        });
    }
    let Prepared {
        component,
        repo,
        hash,
        tar,
        mut changes,
    } = prepared;
    changes.push(format!("LABEL {LABEL_CONTENT_HASH}={hash}"));
    let bar = spinner(
        progress,
        format!("importing {reference} ({} KiB)", tar.len() / 1024),
    );
    let result = engine::import(docker, component, repo, &hash[..TAG_LEN], changes, tar).await;
    bar.finish_and_clear();
    result?;
    Ok(ImageRef {
        reference,
        outcome: Outcome::Built,
    })
}

fn spinner(progress: bool, message: String) -> ProgressBar {
    if !progress {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new_spinner().with_message(message);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Runs file reading, tar assembly and cargo off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ImagesError> + Send + 'static,
) -> Result<T, ImagesError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
