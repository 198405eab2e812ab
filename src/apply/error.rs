//! Why an apply, plan, status, destroy or user command failed; each variant names the step.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("starting the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Images(#[from] crate::images::ImagesError),
    #[error(transparent)]
    Certs(#[from] crate::certs::CertsError),
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error(transparent)]
    Render(#[from] crate::error::DeployError),
    #[error("{what}: {source}")]
    Docker {
        what: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("another apply holds the lock {}", path.display())]
    Locked { path: PathBuf },
    #[error("the new nginx config fails `nginx -t`, nothing was changed:\n{output}")]
    NginxTest { output: String },
    #[error("container {name} did not become healthy: {detail}")]
    Unhealthy { name: String, detail: String },
    #[error("reloading {component} failed: {detail}")]
    Reload { component: String, detail: String },
    #[error("after apply the deployment still differs from the spec (a bug):\n{plan}")]
    NotConverged { plan: String },
    #[error("the xmppd container {name} is not running (run `deploy apply` first)")]
    NotRunning { name: String },
    #[error("{0}")]
    Command(String),
}
