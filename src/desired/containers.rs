//! The two containers: xmppd and nginx. Both run as the unprivileged xmppd user with a
//! read-only root, every capability dropped and no new privileges; low ports are bound
//! thanks to `net.ipv4.ip_unprivileged_port_start=0` in the container's own network
//! namespace, not a capability.

use super::{LABEL_CONFIG, LABEL_CONFIG_HASH, LABEL_DEPLOYMENT, NGINX, ROOT, XMPPD, sha256};
use crate::images::{LABEL_COMPONENT, XMPPD_UID};
use crate::model::Model;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A published port: the same number inside and outside (the configs listen on the spec's
/// ports, so what a client is told matches what it reaches).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpec {
    pub port: u16,
    /// What listens there, for reasons and status (`c2s`, `https`, ...).
    pub role: String,
}

/// A bind mount (`volume: false`, source is a host path) or a named volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    pub source: String,
    pub target: String,
    pub volume: bool,
    pub read_only: bool,
}

/// Everything that shapes a container. Stored as a label on it (JSON) with its hash: a
/// container whose label differs from the desired one is replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    pub name: String,
    pub component: String,
    pub image: String,
    /// The engine's id of an upstream `image` when the container was made (empty for images
    /// built here: their tag is their content hash already). Left out of the JSON when empty,
    /// so containers made before this field existed keep their description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_id: String,
    pub cmd: Vec<String>,
    pub user: String,
    pub ports: Vec<PortSpec>,
    pub mounts: Vec<Mount>,
    pub tmpfs: Vec<String>,
    pub health: Vec<String>,
    /// Hash of the files the component reads only at start (xmppd's config).
    pub config: String,
    pub read_only: bool,
    pub restart: String,
}

impl ContainerSpec {
    /// The canonical JSON stored in [`LABEL_CONFIG`].
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn hash(&self) -> String {
        sha256(self.to_json().as_bytes())
    }

    /// The labels the container carries.
    pub fn labels(&self, deployment: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            (LABEL_DEPLOYMENT.to_owned(), deployment.to_owned()),
            (LABEL_COMPONENT.to_owned(), self.component.clone()),
            (LABEL_CONFIG_HASH.to_owned(), self.hash()),
            (LABEL_CONFIG.to_owned(), self.to_json()),
        ])
    }

    /// The fields that differ from `old`, for a plan's reason.
    pub fn changed_fields(&self, old: &ContainerSpec) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |name: &str, differs: bool, detail: String| {
            if differs {
                out.push(if detail.is_empty() {
                    name.to_owned()
                } else {
                    format!("{name} {detail}")
                });
            }
        };
        let ports = |s: &ContainerSpec| -> String {
            s.ports
                .iter()
                .map(|p| format!("{}:{}", p.role, p.port))
                .collect::<Vec<_>>()
                .join(",")
        };
        check(
            "image",
            self.image != old.image,
            format!("{} -> {}", old.image, self.image),
        );
        check(
            "image id",
            self.image == old.image && self.image_id != old.image_id,
            format!(
                "{} -> {}",
                short_id(&old.image_id),
                if self.image_id.is_empty() {
                    "(known after the pull)"
                } else {
                    short_id(&self.image_id)
                }
            ),
        );
        check(
            "ports",
            self.ports != old.ports,
            format!("{} -> {}", ports(old), ports(self)),
        );
        check("config", self.config != old.config, String::new());
        check("command", self.cmd != old.cmd, String::new());
        check("user", self.user != old.user, String::new());
        check("mounts", self.mounts != old.mounts, String::new());
        check("tmpfs", self.tmpfs != old.tmpfs, String::new());
        check("health check", self.health != old.health, String::new());
        check(
            "hardening",
            self.read_only != old.read_only || self.restart != old.restart,
            String::new(),
        );
        if out.is_empty() {
            out.push("container settings".to_owned());
        }
        out
    }
}

/// `sha256:0123456789ab` of an image id, as the engine's CLI shows ids.
fn short_id(id: &str) -> &str {
    if id.is_empty() {
        return "(none)";
    }
    let cut = id.find(':').map_or(0, |i| i + 1) + 12;
    id.get(..cut).unwrap_or(id)
}

/// A container's image: the reference, and the id of an upstream one (empty otherwise).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Image {
    pub reference: String,
    pub id: String,
}

fn user() -> String {
    format!("{XMPPD_UID}:{XMPPD_UID}")
}

fn bind_run(run_dir: &Path) -> Mount {
    Mount {
        source: run_dir.display().to_string(),
        target: ROOT.to_owned(),
        volume: false,
        read_only: true,
    }
}

const RESTART: &str = "unless-stopped";

pub fn xmppd(model: &Model, image: Image, run_dir: &Path, config_hash: String) -> ContainerSpec {
    let config = crate::images::xmppd::CONFIG.to_owned();
    let p = &model.ports;
    let mut ports = Vec::new();
    for (role, port) in [
        ("c2s", p.c2s),
        ("c2s-direct-tls", p.c2s_direct_tls),
        ("s2s", p.s2s),
        ("s2s-direct-tls", p.s2s_direct_tls),
    ] {
        if let Some(port) = port {
            ports.push(PortSpec {
                port,
                role: role.to_owned(),
            });
        }
    }
    if let Some(proxy) = &model.proxy65 {
        ports.push(PortSpec {
            port: proxy.port,
            role: "proxy65".to_owned(),
        });
    }
    let data = crate::images::xmppd::DATA_DIRS[0];
    let mut mounts = vec![
        bind_run(run_dir),
        Mount {
            source: super::data_volume(&model.name),
            target: data.to_owned(),
            volume: true,
            read_only: false,
        },
    ];
    if model.upload.is_some() {
        mounts.push(Mount {
            source: super::uploads_volume(&model.name),
            target: format!("{data}/uploads"),
            volume: true,
            read_only: false,
        });
    }
    ContainerSpec {
        name: super::container_name(&model.name, XMPPD),
        component: XMPPD.to_owned(),
        image: image.reference,
        image_id: image.id,
        cmd: vec!["run".to_owned(), "--config".to_owned(), config.clone()],
        user: user(),
        ports,
        mounts,
        tmpfs: vec!["/tmp".to_owned()],
        health: vec![
            crate::images::xmppd::BINARY.to_owned(),
            "health".to_owned(),
            "--config".to_owned(),
            config,
        ],
        config: config_hash,
        read_only: true,
        restart: RESTART.to_owned(),
    }
}

pub fn nginx(model: &Model, image: Image, run_dir: &Path) -> ContainerSpec {
    let conf = crate::images::nginx::CONFIG.to_owned();
    let mut ports = Vec::new();
    for (role, port) in [("http", model.ports.http), ("https", model.ports.https)] {
        if let Some(port) = port {
            ports.push(PortSpec {
                port,
                role: role.to_owned(),
            });
        }
    }
    let mounts = vec![
        bind_run(run_dir),
        Mount {
            source: super::acme_volume(&model.name),
            target: format!("{ROOT}/acme"),
            volume: true,
            read_only: true,
        },
    ];
    // `-e stderr`: the compiled-in error log is on the read-only root.
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        v.extend(["-e", "stderr", "-c"].map(str::to_owned));
        v.push(conf.clone());
        v
    };
    ContainerSpec {
        name: super::container_name(&model.name, NGINX),
        component: NGINX.to_owned(),
        image: image.reference,
        image_id: image.id,
        cmd: base(&["-g", "daemon off;"]),
        user: user(),
        ports,
        mounts,
        tmpfs: vec!["/tmp".to_owned()],
        // nginx's master is PID 1, so a dead nginx is a stopped container (restarted by the
        // policy); the check proves the config it would reload is still valid.
        health: {
            let mut h = vec![crate::images::nginx::BINARY.to_owned()];
            h.extend(base(&["-t", "-q"]));
            h
        },
        config: String::new(),
        read_only: true,
        restart: RESTART.to_owned(),
    }
}
