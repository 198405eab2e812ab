//! Rendering: exactly the files a deployment uses, from a validated [`crate::Model`],
//! deterministically (same model, same bytes).
//!
//! Layout of the output folder (also where the files live at runtime, under `--root`):
//! `xmppd/xmppd.toml`, `nginx/nginx.conf`, `nginx/dhparam.pem` (RFC 7919 groups),
//! `www/.well-known/host-meta[.json]`, `dns/zone.txt`. Certificates go to `tls/` (placed by the
//! certificate step, not rendered).

mod dns;
mod host_meta;
mod nginx;
mod xmppd;

use crate::error::DeployError;
use crate::model::{Dh, Model};
use crate::spec::FfdheGroup;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The port xmppd's plain HTTP listener uses inside the deployment network (nginx proxies to it).
pub const XMPPD_HTTP_PORT: u16 = 5280;

/// Render settings that are not part of the spec.
#[derive(Debug, Clone)]
pub struct Options {
    /// Folder where the rendered tree lives when nginx reads it.
    pub root: PathBuf,
}

/// Rendered files: path relative to the output folder -> content.
pub type Files = BTreeMap<String, String>;

/// Paths inside the rendered tree that the configs refer to.
pub mod paths {
    pub const XMPPD_CONFIG: &str = "xmppd/xmppd.toml";
    pub const NGINX_CONFIG: &str = "nginx/nginx.conf";
    pub const DHPARAM: &str = "nginx/dhparam.pem";
    pub const HOST_META: &str = "www/.well-known/host-meta";
    pub const HOST_META_JSON: &str = "www/.well-known/host-meta.json";
    pub const DNS_ZONE: &str = "dns/zone.txt";
    pub const CERTIFICATE: &str = "tls/fullchain.pem";
    pub const PRIVATE_KEY: &str = "tls/privkey.pem";
}

/// Renders every file of the deployment.
pub fn render(model: &Model, options: &Options) -> Result<Files, DeployError> {
    let mut files = Files::new();
    files.insert(paths::XMPPD_CONFIG.to_owned(), xmppd::render(model)?);
    files.insert(paths::DNS_ZONE.to_owned(), dns::render(model));
    if model.has_web() {
        files.insert(
            paths::NGINX_CONFIG.to_owned(),
            nginx::render(model, &options.root),
        );
        files.insert(paths::HOST_META.to_owned(), host_meta::xrd(model)?);
        files.insert(paths::HOST_META_JSON.to_owned(), host_meta::jrd(model));
        // A generated group is made once by the DH step and cached; only its path is rendered.
        if let Dh::Ffdhe(group) = model.tls.dh {
            files.insert(paths::DHPARAM.to_owned(), ffdhe_pem(group).to_owned());
        }
    }
    Ok(files)
}

/// The PEM of an RFC 7919 group (DHParameter: the RFC's prime, generator 2).
pub fn ffdhe_pem(group: FfdheGroup) -> &'static str {
    match group {
        FfdheGroup::Ffdhe2048 => include_str!("ffdhe2048.pem"),
        FfdheGroup::Ffdhe3072 => include_str!("ffdhe3072.pem"),
        FfdheGroup::Ffdhe4096 => include_str!("ffdhe4096.pem"),
    }
}

/// Writes `files` under `out`; returns the paths written, in order.
pub fn write(files: &Files, out: &Path) -> Result<Vec<PathBuf>, DeployError> {
    let mut written = Vec::new();
    for (rel, content) in files {
        let path = out.join(rel);
        let err = |source| DeployError::WriteFile {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        std::fs::write(&path, content).map_err(err)?;
        written.push(path);
    }
    Ok(written)
}
