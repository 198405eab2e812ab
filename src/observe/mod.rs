//! What runs now (read-only): the deployment's containers, network and volumes found by
//! label, which images exist, the files of the run tree by hash, and what each component
//! last loaded (recorded by apply in the state directory).

use crate::desired::{ContainerSpec, Desired, LABEL_CONFIG, LABEL_DEPLOYMENT, RUN_DIR, sha256};
use crate::images::LABEL_COMPONENT;
use bollard::Docker;
use bollard::query_parameters::{ListContainersOptions, ListNetworksOptions, ListVolumesOptions};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// File in the state directory where apply records what each component has loaded.
pub const LOADED_FILE: &str = "loaded.json";

/// One container of the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub component: String,
    /// The spec it was created from (its label); `None` when the label is missing or broken.
    pub spec: Option<ContainerSpec>,
    /// `running`, `exited`, `created`, ...
    pub state: String,
    pub image: String,
}

impl Container {
    pub fn running(&self) -> bool {
        self.state == "running"
    }
}

/// Everything [`crate::plan::diff`] compares with [`Desired`].
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub networks: BTreeSet<String>,
    pub volumes: BTreeSet<String>,
    pub containers: Vec<Container>,
    /// Desired image references that exist on the engine.
    pub images: BTreeSet<String>,
    /// Run-tree files: relative path -> hash.
    pub files: BTreeMap<String, String>,
    /// Component -> reload hash it last loaded.
    pub loaded: BTreeMap<String, String>,
}

fn filter(deployment: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_owned(),
        vec![format!("{LABEL_DEPLOYMENT}={deployment}")],
    )])
}

/// Reads the engine and the state directory; changes nothing.
pub async fn observe(
    docker: &Docker,
    desired: &Desired,
    state_dir: &Path,
) -> Result<Observed, bollard::errors::Error> {
    let mut observed = docker_objects(docker, &desired.deployment).await?;
    for reference in desired.images.values() {
        if crate::images::exists(docker, reference)
            .await
            .unwrap_or(false)
        {
            observed.images.insert(reference.clone());
        }
    }
    observed.files = files(&state_dir.join(RUN_DIR));
    observed.loaded = loaded(state_dir);
    Ok(observed)
}

/// Containers, networks and volumes labelled with `deployment`.
pub async fn docker_objects(
    docker: &Docker,
    deployment: &str,
) -> Result<Observed, bollard::errors::Error> {
    let mut observed = Observed::default();
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filter(deployment)),
            ..Default::default()
        }))
        .await?;
    for c in containers {
        let labels = c.labels.unwrap_or_default();
        let name = c
            .names
            .unwrap_or_default()
            .first()
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_default();
        observed.containers.push(Container {
            id: c.id.unwrap_or_default(),
            name,
            component: labels.get(LABEL_COMPONENT).cloned().unwrap_or_default(),
            spec: labels
                .get(LABEL_CONFIG)
                .and_then(|j| serde_json::from_str(j).ok()),
            state: c
                .state
                .map(|s| s.to_string())
                .unwrap_or_default()
                .to_lowercase(),
            image: c.image.unwrap_or_default(),
        });
    }
    observed.containers.sort_by(|a, b| a.name.cmp(&b.name));
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filter(deployment)),
        }))
        .await?;
    observed.networks = networks.into_iter().filter_map(|n| n.name).collect();
    let volumes = docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(filter(deployment)),
        }))
        .await?;
    observed.volumes = volumes
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    Ok(observed)
}

/// Hashes of every file under `run`, by path relative to it.
pub fn files(run: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![run.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let (Ok(rel), Ok(bytes)) = (path.strip_prefix(run), std::fs::read(&path)) {
                out.insert(rel.to_string_lossy().into_owned(), sha256(&bytes));
            }
        }
    }
    out
}

/// What apply recorded as loaded by each component.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Loaded(pub BTreeMap<String, String>);

pub fn loaded(state_dir: &Path) -> BTreeMap<String, String> {
    std::fs::read(state_dir.join(LOADED_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<Loaded>(&b).ok())
        .map(|l| l.0)
        .unwrap_or_default()
}
