//! diff(desired, observed) -> [`Plan`] (pure, deterministic). Order: stale containers go
//! first (they may hold ports), then network, volumes, images, files, containers in start
//! order, reloads, and last the stale network. Images come before files so that apply can
//! check a new nginx config with the new image before the file goes live.

mod show;
#[cfg(test)]
mod tests;

pub use show::{human, json};

use crate::desired::{Desired, NGINX};
use crate::observe::Observed;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    /// Changed in place (a file rewritten, a container started, a component reloaded).
    Update,
    /// Removed and created again.
    Replace,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Network,
    Volume,
    Image,
    File,
    Container,
    /// Make a running component load its files again (SIGHUP, `nginx -s reload`).
    Reload,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub action: Action,
    pub kind: Kind,
    /// The object: network, volume, image reference, file path or container/component name.
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub deployment: String,
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

fn change(action: Action, kind: Kind, name: &str, reason: impl Into<String>) -> Change {
    Change {
        action,
        kind,
        name: name.to_owned(),
        reason: reason.into(),
    }
}

/// The changes that make `observed` match `desired`.
pub fn diff(desired: &Desired, observed: &Observed) -> Plan {
    use Action::*;
    let mut out = Vec::new();
    for c in &observed.containers {
        if !desired.containers.iter().any(|d| d.name == c.name) {
            out.push(change(
                Delete,
                Kind::Container,
                &c.name,
                "no longer in the spec",
            ));
        }
    }
    if !observed.networks.contains(&desired.network) {
        out.push(change(Create, Kind::Network, &desired.network, "missing"));
    }
    // Volumes are only ever created here: data is removed by `destroy --purge` alone.
    for v in &desired.volumes {
        if !observed.volumes.contains(&v.name) {
            out.push(change(Create, Kind::Volume, &v.name, "missing"));
        }
    }
    for (component, reference) in &desired.images {
        if !observed.images.contains(reference) {
            out.push(change(
                Create,
                Kind::Image,
                reference,
                format!("{component} image not on the engine: built here"),
            ));
        }
    }
    // Before the first certificate exists its files are not desired yet; they are listed anyway
    // (apply obtains the certificate before it plans), so `plan` and `apply` count the same steps.
    let mut wanted: std::collections::BTreeMap<&str, Option<&str>> = desired
        .files
        .iter()
        .map(|(p, f)| (p.as_str(), Some(f.hash.as_str())))
        .collect();
    if !desired.has_certificate {
        for path in [
            crate::render::paths::CERTIFICATE,
            crate::render::paths::PRIVATE_KEY,
        ] {
            wanted.insert(path, None);
        }
    }
    for (path, hash) in wanted {
        match (observed.files.get(path), hash) {
            (_, None) => out.push(change(
                Create,
                Kind::File,
                path,
                "no certificate yet: obtained first",
            )),
            (None, Some(_)) => out.push(change(Create, Kind::File, path, "missing")),
            (Some(h), Some(want)) if h != want => {
                out.push(change(Update, Kind::File, path, "content changed"));
            }
            _ => {}
        }
    }
    let mut started = Vec::new();
    for d in &desired.containers {
        let found = observed.containers.iter().find(|c| c.name == d.name);
        match found {
            None => {
                out.push(change(Create, Kind::Container, &d.name, "missing"));
                started.push(d.component.clone());
            }
            Some(c) => match &c.spec {
                Some(spec) if spec == d => {
                    if !c.running() {
                        out.push(change(
                            Update,
                            Kind::Container,
                            &d.name,
                            format!("not running ({}): started", c.state),
                        ));
                        started.push(d.component.clone());
                    }
                }
                Some(spec) => {
                    let fields = d.changed_fields(spec).join(", ");
                    out.push(change(
                        Replace,
                        Kind::Container,
                        &d.name,
                        format!("{fields} changed"),
                    ));
                    started.push(d.component.clone());
                }
                None => {
                    out.push(change(
                        Replace,
                        Kind::Container,
                        &d.name,
                        "not made by this version of deploy (no config label)",
                    ));
                    started.push(d.component.clone());
                }
            },
        }
    }
    for (component, hash) in &desired.reload {
        // A container started by this plan reads the current files anyway.
        if started.contains(component) || !desired.has_certificate {
            continue;
        }
        if observed.loaded.get(component) != Some(hash) {
            let what = if component == NGINX {
                "nginx config or certificate changed"
            } else {
                "certificate changed"
            };
            out.push(change(Update, Kind::Reload, component, what));
        }
    }
    for n in &observed.networks {
        if *n != desired.network {
            out.push(change(Delete, Kind::Network, n, "no longer in the spec"));
        }
    }
    for path in observed.files.keys() {
        if !desired.files.contains_key(path) {
            out.push(change(Delete, Kind::File, path, "no longer rendered"));
        }
    }
    Plan {
        deployment: desired.deployment.clone(),
        changes: out,
    }
}
