//! The commands around the reconciler, each on its own runtime: `plan`, `apply`, `status`,
//! `destroy` and `user`. The binary only parses arguments and calls these.

pub mod destroy;
pub mod status;
pub mod user;

use crate::apply::{self, ApplyError, Context};
use crate::model::Model;
use crate::plan::Plan;
use std::io::Write;

/// Runs `f` on a fresh runtime.
pub fn block_on<T>(f: impl Future<Output = Result<T, ApplyError>>) -> Result<T, ApplyError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ApplyError::Runtime)?
        .block_on(f)
}

/// Output format of `plan` and `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human { colour: bool },
    Json,
}

/// `deploy plan`: reads only; returns the plan.
pub fn plan(
    model: Model,
    options: &apply::Options,
    format: Format,
    out: &mut impl Write,
) -> Result<Plan, ApplyError> {
    block_on(async {
        let ctx = Context::new(model, options).await?;
        let desired = ctx.desired().await?;
        let observed = ctx.observe(&desired).await?;
        Ok(crate::plan::diff(&desired, &observed)?)
    })
    .and_then(|plan| {
        let text = match format {
            Format::Human { colour } => crate::plan::human(&plan, colour),
            Format::Json => format!("{}\n", crate::plan::json(&plan)),
        };
        out.write_all(text.as_bytes()).map_err(io)?;
        Ok(plan)
    })
}

/// `deploy apply`.
pub fn apply(
    model: Model,
    options: &apply::Options,
    colour: bool,
    out: &mut (impl Write + Send),
) -> Result<Plan, ApplyError> {
    block_on(async {
        let ctx = Context::new(model, options).await?;
        let applied = apply::apply(&ctx, out, colour).await?;
        Ok(applied.plan)
    })
}

pub(crate) fn io(source: std::io::Error) -> ApplyError {
    ApplyError::Io {
        what: "writing the output".to_owned(),
        source,
    }
}
