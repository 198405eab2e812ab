//! Carries out a [`Plan`]: validate (done by the caller), renew certificates, compute the
//! desired state, diff, build or pull the images first (after a pull, plan the rest again with
//! the image ids the engine has now), check a new nginx config with `nginx -t` in the nginx
//! image, execute the changes in order (waiting for health after each container), then
//! observe again: a plan that is still not empty is an error. Every step is idempotent, so an apply killed at
//! any point leaves a state from which the next apply converges.

mod context;
pub mod engine;
mod error;
pub mod files;
pub mod lock;
mod nginx_test;

pub use context::{Context, Options};
pub use error::ApplyError;

use crate::desired::{Desired, NGINX, RUN_DIR, XMPPD};
use crate::observe::{LOADED_FILE, Loaded};
use crate::plan::{Action, Change, Kind, Plan};
use std::io::Write;
use std::time::Duration;

/// Environment variable naming a step after which apply stops and waits to be killed: the
/// fault seam for the test that kills an apply mid-way (never set in normal use).
pub const PAUSE_AFTER_STEP: &str = "DEPLOY_PAUSE_AFTER_STEP";

/// What an apply did.
#[derive(Debug)]
pub struct Applied {
    pub plan: Plan,
}

/// `deploy apply`: makes the deployment match the spec; prints the plan, then each step.
pub async fn apply(
    ctx: &Context,
    out: &mut (impl Write + Send),
    colour: bool,
) -> Result<Applied, ApplyError> {
    crate::certs::StateDir::open(&ctx.state_dir)?;
    let _lock = lock::acquire(&ctx.state_dir)?;
    for note in ctx.renew_certificates().await? {
        eprintln!("{note}");
    }
    let mut desired = ctx.desired().await?;
    let observed = ctx.observe(&desired).await?;
    let mut plan = crate::plan::diff(&desired, &observed)?;
    write!(out, "{}", crate::plan::human(&plan, colour)).map_err(output)?;
    let pause = std::env::var(PAUSE_AFTER_STEP)
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    let mut loaded = Loaded(observed.loaded.clone());
    let mut step = 0;
    // Images come first in every plan: pulls and builds run before anything else changes, so
    // a failed pull leaves the deployment as it was.
    let images: Vec<Change> = plan
        .changes
        .iter()
        .take_while(|c| c.kind == Kind::Image)
        .cloned()
        .collect();
    let mut pulled = std::collections::BTreeSet::new();
    for change in &images {
        pulled.extend(ctx.import_image(&change.name).await?);
        done(out, change, &mut step, pause)?;
    }
    if !pulled.is_empty() {
        // A pull may bring a different image under the same reference: plan the rest again
        // with the ids the engine has now, so only containers whose image changed are replaced.
        desired = ctx.desired().await?;
        desired.pulled = pulled;
        let observed = ctx.observe(&desired).await?;
        let rest = crate::plan::diff(&desired, &observed)?;
        if rest.changes[..] != plan.changes[images.len()..] {
            write!(
                out,
                "after pulling, the rest of the plan is:\n{}",
                crate::plan::human(&rest, colour)
            )
            .map_err(output)?;
        }
        plan.changes.truncate(images.len());
        plan.changes.extend(rest.changes);
    }
    let mut nginx_checked = false;
    for change in &plan.changes[images.len()..] {
        if change.kind == Kind::File && !nginx_checked && touches_nginx(&plan, &desired) {
            nginx_test::check(ctx, &desired).await?;
            nginx_checked = true;
        }
        execute(ctx, &mut desired, change, &mut loaded).await?;
        done(out, change, &mut step, pause)?;
    }
    let again = ctx.observe(&desired).await?;
    let rest = crate::plan::diff(&desired, &again)?;
    if !rest.is_empty() {
        return Err(ApplyError::NotConverged {
            plan: crate::plan::human(&rest, false),
        });
    }
    Ok(Applied { plan })
}

/// Reports a finished step and stops there when the fault seam says so.
fn done(
    out: &mut impl Write,
    change: &Change,
    step: &mut usize,
    pause: Option<usize>,
) -> Result<(), ApplyError> {
    writeln!(out, "done: {} {}", kind_name(change.kind), change.name).map_err(output)?;
    *step += 1;
    if pause == Some(*step) {
        pause_for_kill(*step)?;
    }
    Ok(())
}

fn output(source: std::io::Error) -> ApplyError {
    ApplyError::Io {
        what: "writing the output".to_owned(),
        source,
    }
}

fn kind_name(kind: Kind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Whether the plan writes a file nginx reads (its config, DH group, certificate).
fn touches_nginx(plan: &Plan, desired: &Desired) -> bool {
    desired.reload.contains_key(NGINX)
        && plan.changes.iter().any(|c| {
            c.kind == Kind::File
                && c.action != Action::Delete
                && (c.name.starts_with("nginx/") || c.name.starts_with("tls/"))
        })
}

/// The fault seam: say which step finished, then block until killed (reading stdin, which
/// the test keeps open).
fn pause_for_kill(step: usize) -> Result<(), ApplyError> {
    eprintln!("deploy: paused after step {step}");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    Ok(())
}

async fn execute(
    ctx: &Context,
    desired: &mut Desired,
    change: &Change,
    loaded: &mut Loaded,
) -> Result<(), ApplyError> {
    let docker = &ctx.docker;
    let run = ctx.state_dir.join(RUN_DIR);
    let spec = || desired.containers.iter().find(|c| c.name == change.name);
    match (change.kind, change.action) {
        (Kind::Network, Action::Create) => {
            engine::create_network(docker, &desired.deployment, &change.name).await
        }
        (Kind::Network, _) => {
            docker
                .remove_network(&change.name)
                .await
                .map_err(|source| ApplyError::Docker {
                    what: format!("removing network {}", change.name),
                    source,
                })
        }
        (Kind::Volume, _) => {
            let volume = desired.volumes.iter().find(|v| v.name == change.name);
            match volume {
                Some(v) => {
                    if let Some(dir) = &v.bind {
                        crate::certs::store::ensure_dir(dir, 0o755)?;
                    }
                    engine::create_volume(docker, &desired.deployment, v).await
                }
                None => Ok(()),
            }
        }
        // Run before the other steps, in `apply` itself.
        (Kind::Image, _) => Ok(()),
        (Kind::File, Action::Delete) => files::remove(&run, &change.name),
        (Kind::File, _) => match desired.files.get(&change.name) {
            Some(f) => files::write(&run, &change.name, f),
            None => Ok(()),
        },
        (Kind::Container, Action::Delete) => engine::remove(docker, &change.name).await,
        (Kind::Container, action) => {
            let Some(spec) = spec().cloned() else {
                return Ok(());
            };
            // nginx mounts the ACME volume below the read-only tree: its mount point must exist.
            files::dir(&run, "acme")?;
            match action {
                Action::Update => engine::start(docker, &spec.name).await?,
                _ => {
                    if action == Action::Replace {
                        engine::remove(docker, &spec.name).await?;
                    }
                    engine::create_container(docker, &spec, &desired.deployment, &desired.network)
                        .await?;
                }
            }
            engine::wait_healthy(docker, &spec.name, ctx.health_timeout).await?;
            record(ctx, desired, &spec.component, loaded)
        }
        (Kind::Reload, _) => {
            reload(ctx, desired, &change.name).await?;
            record(ctx, desired, &change.name, loaded)
        }
    }
}

/// Makes a running component read its files again: SIGHUP for xmppd (certificates), `nginx -s
/// reload` for nginx (config and certificates; workers swap without dropping connections).
async fn reload(ctx: &Context, desired: &Desired, component: &str) -> Result<(), ApplyError> {
    let name = crate::desired::container_name(&desired.deployment, component);
    match component {
        XMPPD => engine::signal(&ctx.docker, &name, "SIGHUP").await,
        _ => {
            let cmd: Vec<String> = [
                crate::images::nginx::BINARY,
                "-s",
                "reload",
                "-e",
                "stderr",
                "-c",
                crate::images::nginx::CONFIG,
            ]
            .map(str::to_owned)
            .to_vec();
            let (code, out) = engine::exec(&ctx.docker, &name, &cmd, None).await?;
            if code == 0 {
                Ok(())
            } else {
                Err(ApplyError::Reload {
                    component: component.to_owned(),
                    detail: out,
                })
            }
        }
    }
}

/// Notes that `component` now runs with the current files.
fn record(
    ctx: &Context,
    desired: &Desired,
    component: &str,
    loaded: &mut Loaded,
) -> Result<(), ApplyError> {
    if let Some(hash) = desired.reload.get(component) {
        loaded.0.insert(component.to_owned(), hash.clone());
    }
    let json = serde_json::to_vec_pretty(loaded).unwrap_or_default();
    crate::certs::store::write_atomic(&ctx.state_dir.join(LOADED_FILE), &json, 0o600)?;
    Ok(())
}

/// How long a container may take to become healthy.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(90);
