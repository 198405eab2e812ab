//! The Docker Engine API calls the image steps need: connect (with API version negotiation),
//! look an image up, import a root filesystem tarball as an image
//! (`POST /images/create?fromSrc=-`, the engine's import API).

use super::ImagesError;
use bollard::Docker;
use bollard::query_parameters::CreateImageOptions;
use futures::StreamExt as _;

/// Connects as `DOCKER_HOST` says (the local socket by default) and agrees on an API version:
/// bollard 0.21 speaks a newer API than older engines accept.
pub async fn connect() -> Result<Docker, ImagesError> {
    Docker::connect_with_defaults()
        .map_err(ImagesError::Connect)?
        .negotiate_version()
        .await
        .map_err(ImagesError::Connect)
}

/// Whether `reference` names an image on this engine.
pub async fn exists(docker: &Docker, reference: &str) -> Result<bool, ImagesError> {
    match docker.inspect_image(reference).await {
        Ok(_) => Ok(true),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(source) => Err(ImagesError::Inspect {
            reference: reference.to_owned(),
            source,
        }),
    }
}

/// Imports `tar` as the image `repo:tag`, with Dockerfile-style `changes`
/// (`USER`, `ENTRYPOINT`, `CMD`, `LABEL`, ...).
pub async fn import(
    docker: &Docker,
    component: &'static str,
    repo: &str,
    tag: &str,
    changes: Vec<String>,
    tar: Vec<u8>,
) -> Result<(), ImagesError> {
    let options = CreateImageOptions {
        from_src: Some("-".to_owned()),
        repo: Some(repo.to_owned()),
        tag: Some(tag.to_owned()),
        message: Some(format!("deploy images build ({component})")),
        changes,
        ..Default::default()
    };
    let err = |source| ImagesError::Import {
        component,
        reference: format!("{repo}:{tag}"),
        source,
    };
    let mut stream = docker.create_image(Some(options), Some(bollard::body_full(tar.into())), None);
    while let Some(item) = stream.next().await {
        item.map_err(err)?;
    }
    Ok(())
}
