//! `nginx -t` on the new files before they go live: the whole new tree is written to a
//! staging folder and checked by the nginx image in a throwaway container with no network,
//! so a config nginx would refuse never replaces one it runs.

use super::{ApplyError, Context, files};
use crate::desired::{Desired, ROOT};
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use bollard::query_parameters::{LogsOptions, RemoveContainerOptions};
use futures::StreamExt as _;

const STAGE_DIR: &str = "stage";

pub async fn check(ctx: &Context, desired: &Desired) -> Result<(), ApplyError> {
    let Some(image) = ctx.nginx_image() else {
        return Ok(());
    };
    let stage = ctx.state_dir.join(STAGE_DIR);
    let _ = std::fs::remove_dir_all(&stage);
    for (rel, file) in &desired.files {
        files::write(&stage, rel, file)?;
    }
    let result = run(ctx, &image, &stage).await;
    let _ = std::fs::remove_dir_all(&stage);
    result
}

async fn run(ctx: &Context, image: &str, stage: &std::path::Path) -> Result<(), ApplyError> {
    let docker = &ctx.docker;
    let err = |what: &str| {
        let what = what.to_owned();
        move |source| ApplyError::Docker { what, source }
    };
    let user = format!("{}:{}", crate::images::XMPPD_UID, crate::images::XMPPD_UID);
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        user: Some(user),
        cmd: Some(
            ["-t", "-e", "stderr", "-c", crate::images::nginx::CONFIG]
                .map(str::to_owned)
                .to_vec(),
        ),
        host_config: Some(HostConfig {
            mounts: Some(vec![Mount {
                target: Some(ROOT.to_owned()),
                source: Some(stage.display().to_string()),
                typ: Some(MountType::BIND),
                read_only: Some(true),
                ..Default::default()
            }]),
            tmpfs: Some(std::collections::HashMap::from([(
                "/tmp".to_owned(),
                "rw,size=16m".to_owned(),
            )])),
            readonly_rootfs: Some(true),
            cap_drop: Some(vec!["ALL".to_owned()]),
            network_mode: Some("none".to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = docker
        .create_container(None, body)
        .await
        .map_err(err("creating the nginx -t container"))?
        .id;
    let outcome = async {
        docker
            .start_container(&id, None)
            .await
            .map_err(err("starting the nginx -t container"))?;
        let code = match docker.wait_container(&id, None).next().await {
            Some(Ok(r)) => r.status_code,
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
            Some(Err(e)) => return Err(err("waiting for nginx -t")(e)),
            None => -1,
        };
        let mut output = String::new();
        let mut logs = docker.logs(
            &id,
            Some(LogsOptions {
                stdout: true,
                stderr: true,
                ..Default::default()
            }),
        );
        while let Some(Ok(chunk)) = logs.next().await {
            output.push_str(&chunk.to_string());
        }
        if code == 0 {
            Ok(())
        } else {
            Err(ApplyError::NginxTest { output })
        }
    }
    .await;
    let _ = docker
        .remove_container(
            &id,
            Some(RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        )
        .await;
    outcome
}
