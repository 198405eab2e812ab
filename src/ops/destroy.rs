//! `deploy destroy`: removes the deployment's containers and network; with `purge` also its
//! volumes (accounts, messages, uploads) and its state directory (certificates, CA, keys).

use super::block_on;
use crate::apply::{ApplyError, engine};
use crate::model::Model;
use std::io::Write;
use std::path::Path;

/// Removes what carries the deployment's label. The caller has confirmed a purge.
pub fn destroy(
    model: &Model,
    state_dir: &Path,
    purge: bool,
    out: &mut impl Write,
) -> Result<(), ApplyError> {
    let name = model.name.clone();
    let removed = block_on(async {
        let docker = crate::images::connect().await?;
        let _lock = crate::apply::lock::acquire_if_exists(state_dir)?;
        let found = crate::observe::docker_objects(&docker, &name)
            .await
            .map_err(|source| ApplyError::Docker {
                what: "listing the deployment's objects".to_owned(),
                source,
            })?;
        let mut removed = Vec::new();
        for c in &found.containers {
            engine::remove(&docker, &c.name).await?;
            removed.push(format!("container {}", c.name));
        }
        for n in &found.networks {
            docker
                .remove_network(n)
                .await
                .map_err(|source| ApplyError::Docker {
                    what: format!("removing network {n}"),
                    source,
                })?;
            removed.push(format!("network {n}"));
        }
        if purge {
            for v in &found.volumes {
                docker
                    .remove_volume(v, None::<bollard::query_parameters::RemoveVolumeOptions>)
                    .await
                    .map_err(|source| ApplyError::Docker {
                        what: format!("removing volume {v}"),
                        source,
                    })?;
                removed.push(format!("volume {v}"));
            }
        } else {
            for v in &found.volumes {
                removed.push(format!("kept volume {v}"));
            }
        }
        Ok(removed)
    })?;
    for line in removed {
        writeln!(out, "{line}").map_err(super::io)?;
    }
    if purge && state_dir.exists() {
        std::fs::remove_dir_all(state_dir).map_err(|source| ApplyError::Io {
            what: format!("removing {}", state_dir.display()),
            source,
        })?;
        writeln!(out, "removed state {}", state_dir.display()).map_err(super::io)?;
    }
    Ok(())
}
