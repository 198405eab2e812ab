//! Model -> [`Desired`] (pure): the network, volumes, files, images and containers one
//! deployment consists of, each container with the labels that let `observe` find it and a
//! canonical description whose hash tells `plan` when it must be replaced.

mod containers;

pub use containers::{ContainerSpec, Mount, PortSpec};

use crate::model::Model;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Label holding the deployment name, on every object deploy creates.
pub const LABEL_DEPLOYMENT: &str = "org.xmppd.deploy.deployment";
/// Label holding the SHA-256 of [`ContainerSpec`] (the config that shaped the container).
pub const LABEL_CONFIG_HASH: &str = "org.xmppd.deploy.config-hash";
/// Label holding the [`ContainerSpec`] itself (JSON), so a plan can name the changed field.
pub const LABEL_CONFIG: &str = "org.xmppd.deploy.config";
pub use crate::images::LABEL_COMPONENT;

/// Folder of the state directory holding the tree the containers mount at [`ROOT`].
pub const RUN_DIR: &str = "run";
/// Where the rendered tree is mounted inside the containers (render's `--root`).
pub const ROOT: &str = "/deploy";

/// The components, in start order (nginx proxies to xmppd).
pub const XMPPD: &str = "xmppd";
pub const NGINX: &str = "nginx";

/// The certificate and key the containers use (from the certificate step).
#[derive(Clone)]
pub struct Tls {
    pub fullchain_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls { <redacted> }")
    }
}

/// What [`build`] needs besides the model; all computed before, so build stays pure.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Absolute state directory of the deployment.
    pub state_dir: PathBuf,
    /// Files rendered for [`ROOT`] (`render::render`).
    pub rendered: crate::render::Files,
    /// `None` before the first certificate exists (`deploy plan` on a fresh machine).
    pub tls: Option<Tls>,
    /// A generated DH group (PEM) when the spec asks for one.
    pub dhparam: Option<String>,
    /// Image references per component (`repo:tag`).
    pub images: BTreeMap<String, String>,
    /// Components whose image is upstream (the spec's `reference`), with what the engine has.
    pub upstream: BTreeMap<String, UpstreamImage>,
}

/// An upstream image as the deployment wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamImage {
    pub pull: crate::spec::PullPolicy,
    /// The engine's id of the image the reference names now; `None` while it is absent. A
    /// container records the id it was created from, so a pull that brings a different
    /// image under the same reference replaces the container, and an identical one does not.
    pub id: Option<String>,
}

/// One file of the run tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub content: Vec<u8>,
    pub hash: String,
    /// Only the xmppd user may read it (the private key).
    pub private: bool,
}

/// A named volume; `bind` makes it a named view of a state-directory folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub name: String,
    pub bind: Option<PathBuf>,
}

/// The whole deployment as the spec wants it.
#[derive(Debug, Clone)]
pub struct Desired {
    pub deployment: String,
    pub network: String,
    pub volumes: Vec<Volume>,
    /// Path relative to the run dir -> file.
    pub files: BTreeMap<String, File>,
    /// Component -> image reference.
    pub images: BTreeMap<String, String>,
    /// Component -> upstream image (absent: built here).
    pub upstream: BTreeMap<String, UpstreamImage>,
    /// Components whose upstream image this apply has pulled already: `pull: always` is then
    /// satisfied until the next apply.
    pub pulled: BTreeSet<String>,
    /// In start order.
    pub containers: Vec<ContainerSpec>,
    /// Component -> hash of what it reads at reload (certificates, nginx config): when the
    /// running component has loaded something else, it is reloaded, not recreated.
    pub reload: BTreeMap<String, String>,
    /// Whether a certificate exists yet (else apply obtains one first).
    pub has_certificate: bool,
}

/// Hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Names of the deployment's objects.
pub fn network_name(deployment: &str) -> String {
    format!("{deployment}-net")
}
pub fn container_name(deployment: &str, component: &str) -> String {
    format!("{deployment}-{component}")
}
pub fn data_volume(deployment: &str) -> String {
    format!("{deployment}-xmppd-data")
}
pub fn uploads_volume(deployment: &str) -> String {
    format!("{deployment}-uploads")
}
pub fn acme_volume(deployment: &str) -> String {
    format!("{deployment}-acme-webroot")
}

/// Model -> desired state. Pure: the same inputs give the same value.
pub fn build(model: &Model, inputs: &Inputs) -> Desired {
    let name = &model.name;
    let web = model.has_web();
    let mut files = BTreeMap::new();
    let mut add = |path: &str, content: Vec<u8>, private: bool| {
        let hash = sha256(&content);
        files.insert(
            path.to_owned(),
            File {
                content,
                hash,
                private,
            },
        );
    };
    for (path, content) in &inputs.rendered {
        add(path, content.clone().into_bytes(), false);
    }
    if let (Some(pem), true) = (&inputs.dhparam, web) {
        add(
            crate::render::paths::DHPARAM,
            pem.clone().into_bytes(),
            false,
        );
    }
    if let Some(tls) = &inputs.tls {
        add(
            crate::render::paths::CERTIFICATE,
            tls.fullchain_pem.clone(),
            false,
        );
        add(crate::render::paths::PRIVATE_KEY, tls.key_pem.clone(), true);
    }
    let hash_of = |paths: &[&str]| {
        let joined: Vec<String> = paths
            .iter()
            .map(|p| files.get(*p).map_or("-".to_owned(), |f| f.hash.clone()))
            .collect();
        sha256(joined.join(",").as_bytes())
    };
    let tls_files = [
        crate::render::paths::CERTIFICATE,
        crate::render::paths::PRIVATE_KEY,
    ];
    let mut reload = BTreeMap::new();
    reload.insert(XMPPD.to_owned(), hash_of(&tls_files));
    let mut volumes = vec![Volume {
        name: data_volume(name),
        bind: None,
    }];
    if model.upload.is_some() {
        volumes.push(Volume {
            name: uploads_volume(name),
            bind: None,
        });
    }
    let run_dir = inputs.state_dir.join(RUN_DIR);
    let image = |c: &str| containers::Image {
        reference: inputs.images.get(c).cloned().unwrap_or_default(),
        id: inputs
            .upstream
            .get(c)
            .and_then(|u| u.id.clone())
            .unwrap_or_default(),
    };
    let mut containers = vec![containers::xmppd(
        model,
        image(XMPPD),
        &run_dir,
        hash_of(&[crate::render::paths::XMPPD_CONFIG]),
    )];
    if web {
        volumes.push(Volume {
            name: acme_volume(name),
            bind: Some(inputs.state_dir.join(crate::certs::layout::WEBROOT)),
        });
        let mut nginx_files: Vec<&str> = vec![
            crate::render::paths::NGINX_CONFIG,
            crate::render::paths::DHPARAM,
        ];
        nginx_files.extend(tls_files);
        reload.insert(NGINX.to_owned(), hash_of(&nginx_files));
        containers.push(containers::nginx(model, image(NGINX), &run_dir));
    }
    Desired {
        deployment: name.clone(),
        network: network_name(name),
        volumes,
        files,
        images: inputs.images.clone(),
        upstream: inputs.upstream.clone(),
        pulled: BTreeSet::new(),
        containers,
        reload,
        has_certificate: inputs.tls.is_some(),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
pub(crate) mod tests_support;
