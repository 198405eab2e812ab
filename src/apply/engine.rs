//! The Docker calls apply makes: create network, volume and container from their desired
//! descriptions, start, remove, signal, exec, and wait for a container to be healthy.

use super::ApplyError;
use crate::desired::{ContainerSpec, LABEL_DEPLOYMENT, Volume};
use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HealthStatusEnum, HostConfig, Mount,
    MountType, NetworkCreateRequest, NetworkingConfig, PortBinding, RestartPolicy,
    RestartPolicyNameEnum, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, RemoveContainerOptions,
};
use futures::StreamExt as _;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt as _;

fn labels(deployment: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut l = HashMap::from([(LABEL_DEPLOYMENT.to_owned(), deployment.to_owned())]);
    l.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    l
}

fn step(what: String) -> impl FnOnce(bollard::errors::Error) -> ApplyError {
    move |source| ApplyError::Docker { what, source }
}

pub async fn create_network(
    docker: &Docker,
    deployment: &str,
    name: &str,
) -> Result<(), ApplyError> {
    let request = NetworkCreateRequest {
        name: name.to_owned(),
        driver: Some("bridge".to_owned()),
        labels: Some(labels(deployment, &[])),
        ..Default::default()
    };
    docker
        .create_network(request)
        .await
        .map_err(step(format!("creating network {name}")))?;
    Ok(())
}

pub async fn create_volume(
    docker: &Docker,
    deployment: &str,
    v: &Volume,
) -> Result<(), ApplyError> {
    // A bind-backed volume names a state-directory folder (the ACME webroot): the
    // certificate step writes challenges there and nginx serves them.
    let driver_opts = v.bind.as_ref().map(|path| {
        HashMap::from([
            ("type".to_owned(), "none".to_owned()),
            ("o".to_owned(), "bind".to_owned()),
            ("device".to_owned(), path.display().to_string()),
        ])
    });
    let request = VolumeCreateRequest {
        name: Some(v.name.clone()),
        driver: Some("local".to_owned()),
        driver_opts,
        labels: Some(labels(deployment, &[])),
        ..Default::default()
    };
    docker
        .create_volume(request)
        .await
        .map_err(step(format!("creating volume {}", v.name)))?;
    Ok(())
}

/// The engine's container description of `spec`, with the hardening every container gets.
fn body(spec: &ContainerSpec, deployment: &str, network: &str) -> ContainerCreateBody {
    let port_key = |p: u16| format!("{p}/tcp");
    let port_bindings = spec
        .ports
        .iter()
        .map(|p| {
            let binding = PortBinding {
                host_ip: None,
                host_port: Some(p.port.to_string()),
            };
            (port_key(p.port), Some(vec![binding]))
        })
        .collect();
    let mounts = spec
        .mounts
        .iter()
        .map(|m| Mount {
            target: Some(m.target.clone()),
            source: Some(m.source.clone()),
            typ: Some(if m.volume {
                MountType::VOLUME
            } else {
                MountType::BIND
            }),
            read_only: Some(m.read_only),
            ..Default::default()
        })
        .collect();
    let tmpfs = spec
        .tmpfs
        .iter()
        .map(|t| (t.clone(), "rw,noexec,nosuid,size=64m".to_owned()))
        .collect();
    let labels = spec.labels(deployment).into_iter().collect();
    let mut health = vec!["CMD".to_owned()];
    health.extend(spec.health.iter().cloned());
    let second = 1_000_000_000;
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: Some(spec.cmd.clone()),
        user: Some(spec.user.clone()),
        labels: Some(labels),
        exposed_ports: Some(spec.ports.iter().map(|p| port_key(p.port)).collect()),
        healthcheck: Some(HealthConfig {
            test: Some(health),
            interval: Some(2 * second),
            timeout: Some(5 * second),
            retries: Some(3),
            start_period: Some(30 * second),
            ..Default::default()
        }),
        host_config: Some(HostConfig {
            port_bindings: Some(port_bindings),
            mounts: Some(mounts),
            tmpfs: Some(tmpfs),
            readonly_rootfs: Some(spec.read_only),
            cap_drop: Some(vec!["ALL".to_owned()]),
            security_opt: Some(vec!["no-new-privileges:true".to_owned()]),
            // Docker's init as PID 1 forwards signals (SIGHUP reload, SIGTERM stop) and
            // reaps children; neither image has one of its own.
            init: Some(true),
            sysctls: Some(HashMap::from([(
                "net.ipv4.ip_unprivileged_port_start".to_owned(),
                "0".to_owned(),
            )])),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                maximum_retry_count: None,
            }),
            network_mode: Some(network.to_owned()),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network.to_owned(),
                EndpointSettings {
                    aliases: Some(vec![spec.name.clone()]),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    }
}

pub async fn create_container(
    docker: &Docker,
    spec: &ContainerSpec,
    deployment: &str,
    network: &str,
) -> Result<(), ApplyError> {
    let options = CreateContainerOptions {
        name: Some(spec.name.clone()),
        ..Default::default()
    };
    docker
        .create_container(Some(options), body(spec, deployment, network))
        .await
        .map_err(step(format!("creating container {}", spec.name)))?;
    start(docker, &spec.name).await
}

pub async fn start(docker: &Docker, name: &str) -> Result<(), ApplyError> {
    docker
        .start_container(name, None)
        .await
        .map_err(step(format!("starting container {name}")))
}

/// Stops and removes a container (SIGTERM, then SIGKILL after 10 s); gone already is fine.
pub async fn remove(docker: &Docker, name: &str) -> Result<(), ApplyError> {
    let _ = docker
        .stop_container(
            name,
            Some(bollard::query_parameters::StopContainerOptions {
                t: Some(10),
                ..Default::default()
            }),
        )
        .await;
    let options = RemoveContainerOptions {
        force: true,
        ..Default::default()
    };
    match docker.remove_container(name, Some(options)).await {
        Ok(()) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        Err(e) => Err(step(format!("removing container {name}"))(e)),
    }
}

pub async fn signal(docker: &Docker, name: &str, signal: &str) -> Result<(), ApplyError> {
    docker
        .kill_container(
            name,
            Some(KillContainerOptions {
                signal: signal.to_owned(),
            }),
        )
        .await
        .map_err(step(format!("sending {signal} to {name}")))
}

/// Runs `cmd` in a running container, feeding `stdin`; returns the exit code and output.
pub async fn exec(
    docker: &Docker,
    name: &str,
    cmd: &[String],
    stdin: Option<&[u8]>,
) -> Result<(i64, String), ApplyError> {
    let what = || format!("running {} in {name}", cmd.join(" "));
    let created = docker
        .create_exec(
            name,
            CreateExecOptions {
                attach_stdin: Some(stdin.is_some()),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                cmd: Some(cmd.to_vec()),
                ..Default::default()
            },
        )
        .await
        .map_err(step(what()))?;
    let mut out = String::new();
    if let StartExecResults::Attached {
        mut output,
        mut input,
    } = docker
        .start_exec(&created.id, None)
        .await
        .map_err(step(what()))?
    {
        if let Some(bytes) = stdin {
            input
                .write_all(bytes)
                .await
                .map_err(|source| ApplyError::Io {
                    what: what(),
                    source,
                })?;
            input.flush().await.map_err(|source| ApplyError::Io {
                what: what(),
                source,
            })?;
        }
        while let Some(chunk) = output.next().await {
            out.push_str(&chunk.map_err(step(what()))?.to_string());
        }
    }
    let code = docker
        .inspect_exec(&created.id)
        .await
        .map_err(step(what()))?
        .exit_code
        .unwrap_or(-1);
    Ok((code, out))
}

/// Waits until the container's health check passes; fails when it turns unhealthy, the
/// container stops, or `timeout` passes.
pub async fn wait_healthy(
    docker: &Docker,
    name: &str,
    timeout: Duration,
) -> Result<(), ApplyError> {
    let start = Instant::now();
    loop {
        let inspect = docker
            .inspect_container(name, None)
            .await
            .map_err(step(format!("inspecting {name}")))?;
        let state = inspect.state.unwrap_or_default();
        let health = state.health.as_ref().and_then(|h| h.status);
        match health {
            Some(HealthStatusEnum::HEALTHY) => return Ok(()),
            Some(HealthStatusEnum::UNHEALTHY) => {
                return Err(ApplyError::Unhealthy {
                    name: name.to_owned(),
                    detail: last_probe(&state),
                });
            }
            _ => {}
        }
        if state.running == Some(false) {
            return Err(ApplyError::Unhealthy {
                name: name.to_owned(),
                detail: format!("exited with code {}", state.exit_code.unwrap_or(-1)),
            });
        }
        if start.elapsed() > timeout {
            return Err(ApplyError::Unhealthy {
                name: name.to_owned(),
                detail: format!("not healthy after {} s", timeout.as_secs()),
            });
        }
        // The engine has no "health changed" wait; poll the condition at a short interval.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn last_probe(state: &bollard::models::ContainerState) -> String {
    state
        .health
        .as_ref()
        .and_then(|h| h.log.as_ref())
        .and_then(|l| l.last())
        .and_then(|p| p.output.clone())
        .unwrap_or_default()
}
