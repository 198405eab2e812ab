//! `deploy status`: per container its state, health, image, ports, uptime; the certificate's
//! expiry; the running xmppd's version.

use super::{Format, block_on};
use crate::apply::{ApplyError, engine};
use crate::desired::{XMPPD, container_name};
use crate::model::Model;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

#[derive(Debug, Serialize)]
pub struct ContainerStatus {
    pub name: String,
    pub component: String,
    /// `running`, `exited`, ... or `missing`.
    pub state: String,
    pub health: Option<String>,
    pub image: Option<String>,
    pub ports: Vec<u16>,
    pub started_at: Option<String>,
    pub uptime_seconds: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub deployment: String,
    pub containers: Vec<ContainerStatus>,
    pub certificate_not_after: Option<String>,
    pub certificate_days_left: Option<i64>,
    pub xmppd_version: Option<String>,
}

pub fn status(
    model: &Model,
    state_dir: &Path,
    format: Format,
    out: &mut impl Write,
) -> Result<Status, ApplyError> {
    let status = block_on(collect(model, state_dir))?;
    let text = match format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&status).unwrap_or_default()
        ),
        Format::Human { .. } => human(&status),
    };
    out.write_all(text.as_bytes()).map_err(super::io)?;
    Ok(status)
}

async fn collect(model: &Model, state_dir: &Path) -> Result<Status, ApplyError> {
    let docker = crate::images::connect().await?;
    let now = crate::certs::inspect::now();
    let mut components = vec![XMPPD];
    if model.has_web() {
        components.push(crate::desired::NGINX);
    }
    let mut containers = Vec::new();
    for component in components {
        let name = container_name(&model.name, component);
        let mut s = ContainerStatus {
            name: name.clone(),
            component: component.to_owned(),
            state: "missing".to_owned(),
            health: None,
            image: None,
            ports: Vec::new(),
            started_at: None,
            uptime_seconds: None,
        };
        if let Ok(inspect) = docker.inspect_container(&name, None).await {
            let state = inspect.state.unwrap_or_default();
            s.state = state
                .status
                .map_or_else(|| "unknown".to_owned(), |st| st.to_string());
            s.health = state.health.and_then(|h| h.status).map(|h| h.to_string());
            s.image = inspect.config.and_then(|c| c.image);
            let mut ports: Vec<u16> = inspect
                .host_config
                .and_then(|h| h.port_bindings)
                .unwrap_or_default()
                .values()
                .flatten()
                .flatten()
                .filter_map(|b| b.host_port.as_ref()?.parse().ok())
                .collect();
            ports.sort_unstable();
            s.ports = ports;
            if state.running == Some(true) {
                s.uptime_seconds = state
                    .started_at
                    .as_deref()
                    .and_then(|t| {
                        time::OffsetDateTime::parse(
                            t,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                    })
                    .map(|t| now - t.unix_timestamp());
            }
            s.started_at = state.started_at;
        }
        containers.push(s);
    }
    let xmppd = container_name(&model.name, XMPPD);
    let about = [crate::images::xmppd::BINARY, "about"].map(str::to_owned);
    let xmppd_version = match containers.first() {
        Some(c) if c.state == "running" => engine::exec(&docker, &xmppd, &about, None)
            .await
            .ok()
            .and_then(|(code, out)| (code == 0).then(|| out.lines().next().map(str::to_owned)))
            .flatten(),
        _ => None,
    };
    let state = crate::certs::StateDir::open(state_dir)?;
    let cert = crate::certs::current(&state).ok().flatten();
    Ok(Status {
        deployment: model.name.clone(),
        containers,
        certificate_not_after: cert.as_ref().map(|c| {
            time::OffsetDateTime::from_unix_timestamp(c.not_after)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default()
        }),
        certificate_days_left: cert.as_ref().map(|c| c.days_left(now)),
        xmppd_version,
    })
}

fn human(s: &Status) -> String {
    let mut out = format!("deployment {}\n", s.deployment);
    for c in &s.containers {
        let ports: Vec<String> = c.ports.iter().map(u16::to_string).collect();
        out.push_str(&format!(
            "  {:<8} {:<8} health={} ports={} up={} image={}\n",
            c.component,
            c.state,
            c.health.as_deref().unwrap_or("-"),
            if ports.is_empty() {
                "-".to_owned()
            } else {
                ports.join(",")
            },
            c.uptime_seconds
                .map_or_else(|| "-".to_owned(), |u| format!("{u}s")),
            c.image.as_deref().unwrap_or("-"),
        ));
    }
    out.push_str(&format!(
        "  certificate: {}\n  xmppd: {}\n",
        match (&s.certificate_not_after, s.certificate_days_left) {
            (Some(t), Some(d)) => format!("valid until {t} ({d} days left)"),
            _ => "none".to_owned(),
        },
        s.xmppd_version.as_deref().unwrap_or("not running"),
    ));
    out
}
