//! Upstream images (`runtime.images.<component>.reference`): pulled from their registry with
//! the engine's `create_image` (`fromImage` + `tag`) as the spec's pull policy says, with a
//! progress display like the build's.

use super::{ImageRef, ImagesError, Outcome, exists, spinner};
use crate::model::Upstream;
use crate::spec::PullPolicy;
use bollard::Docker;
use bollard::query_parameters::CreateImageOptions;
use futures::StreamExt as _;

/// Whether an apply must pull `upstream`, given whether the engine has it; `Err` when the
/// policy forbids the pull the deployment needs.
pub fn needs_pull(
    component: &'static str,
    upstream: &Upstream,
    present: bool,
) -> Result<bool, ImagesError> {
    match (upstream.pull, present) {
        (PullPolicy::Always, _) | (PullPolicy::IfNotPresent, false) => Ok(true),
        (PullPolicy::IfNotPresent, true) | (PullPolicy::Never, true) => Ok(false),
        (PullPolicy::Never, false) => Err(ImagesError::UpstreamMissing {
            component,
            reference: upstream.reference.clone(),
        }),
    }
}

/// Pulls `upstream` from its registry; the error names the component and the reference.
pub async fn pull(
    docker: &Docker,
    component: &'static str,
    upstream: &Upstream,
    progress: bool,
) -> Result<(), ImagesError> {
    let (from_image, tag) = upstream.parsed.pull_args();
    let options = CreateImageOptions {
        from_image: Some(from_image),
        tag: Some(tag),
        ..Default::default()
    };
    let err = |detail: String| ImagesError::Pull {
        component,
        reference: upstream.reference.clone(),
        detail,
    };
    let bar = spinner(progress, format!("pulling {}", upstream.reference));
    let mut stream = docker.create_image(Some(options), None, None);
    let mut result = Ok(());
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(e) = info.error_detail.and_then(|d| d.message) {
                    result = Err(err(e));
                    break;
                }
                // `status` is "Downloading", "Extracting", ...; `id` the layer.
                let bytes = info
                    .progress_detail
                    .and_then(|p| match (p.current, p.total) {
                        (Some(c), Some(t)) if t > 0 => {
                            Some(format!("{} / {} KiB", c / 1024, t / 1024))
                        }
                        _ => None,
                    });
                let line = [info.id, info.status, bytes]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                bar.set_message(format!("pulling {}: {line}", upstream.reference));
            }
            Err(e) => {
                result = Err(err(e.to_string()));
                break;
            }
        }
    }
    bar.finish_and_clear();
    result
}

/// Makes an upstream image present as its policy says (`deploy images build`).
pub async fn ensure_upstream(
    docker: &Docker,
    component: &'static str,
    upstream: &Upstream,
    progress: bool,
) -> Result<ImageRef, ImagesError> {
    let present = exists(docker, &upstream.reference).await?;
    let outcome = if needs_pull(component, upstream, present)? {
        pull(docker, component, upstream, progress).await?;
        Outcome::Pulled
    } else {
        Outcome::Upstream
    };
    Ok(ImageRef {
        reference: upstream.reference.clone(),
        outcome,
    })
}

/// The engine's id of the image `reference` names (`sha256:...`), or `None` when absent.
pub async fn image_id(docker: &Docker, reference: &str) -> Result<Option<String>, ImagesError> {
    match docker.inspect_image(reference).await {
        Ok(inspect) => Ok(inspect.id),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(source) => Err(ImagesError::Inspect {
            reference: reference.to_owned(),
            source,
        }),
    }
}
