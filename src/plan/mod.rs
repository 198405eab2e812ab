//! diff(desired, observed) -> [`Plan`] (pure, deterministic). Order: images first (a pull that
//! fails must change nothing), then stale containers (they may hold ports), network, volumes,
//! files, containers in start order, reloads, and last the stale network. Images come before
//! files so that apply can check a new nginx config with the new image before the file goes
//! live.
//!
//! An upstream image with `pull: always` is always in the plan (`plan` never pulls, so it
//! cannot know whether the registry has something new): apply pulls it, and replaces a
//! container only when the pulled image's id differs from the one the container runs.

mod show;
#[cfg(test)]
mod tests;

pub use show::{human, json};

use crate::desired::{Desired, NGINX};
use crate::observe::Observed;
use crate::spec::PullPolicy;
use serde::Serialize;

/// A deployment that cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// An upstream image with `pull: never` is not on the engine.
    #[error(
        "the {component} image {reference} is not on this Docker engine and \
         runtime.images.{component}.pull is `never`: load it (`docker load`) or allow a pull \
         with `pull: if-not-present`"
    )]
    ImageNeverPulled {
        component: String,
        reference: String,
    },
}

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

/// The changes that make `observed` match `desired`; fails when an image the deployment
/// needs may not be pulled.
pub fn diff(desired: &Desired, observed: &Observed) -> Result<Plan, PlanError> {
    use Action::*;
    let mut out = images(desired, observed)?;
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
    Ok(Plan {
        deployment: desired.deployment.clone(),
        changes: out,
    })
}

/// Images to build here or pull, by their component's source and pull policy.
fn images(desired: &Desired, observed: &Observed) -> Result<Vec<Change>, PlanError> {
    let mut out = Vec::new();
    for (component, reference) in &desired.images {
        let present = observed.images.contains(reference);
        let Some(upstream) = desired.upstream.get(component) else {
            if !present {
                out.push(change(
                    Action::Create,
                    Kind::Image,
                    reference,
                    format!("{component} image not on the engine: built here"),
                ));
            }
            continue;
        };
        if desired.pulled.contains(component) {
            continue;
        }
        match (upstream.pull, present) {
            (PullPolicy::Never, false) => {
                return Err(PlanError::ImageNeverPulled {
                    component: component.clone(),
                    reference: reference.clone(),
                });
            }
            (PullPolicy::Always | PullPolicy::IfNotPresent, false) => out.push(change(
                Action::Create,
                Kind::Image,
                reference,
                format!("{component} image: pull: image not present"),
            )),
            (PullPolicy::Always, true) => out.push(change(
                Action::Update,
                Kind::Image,
                reference,
                format!(
                    "{component} image: pull: policy always (containers are replaced only if \
                     the pulled image differs)"
                ),
            )),
            (PullPolicy::IfNotPresent | PullPolicy::Never, true) => {}
        }
    }
    Ok(out)
}
