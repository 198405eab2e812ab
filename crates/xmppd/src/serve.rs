//! `xmppd run`: logging, the runtime, listeners, and signals.

use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;
use xmppd_config::Config;
use xmppd_core::runtime::Runtime;

pub fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("XMPPD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(config.logging.level.as_str()));
    // Colour only on a terminal: under Docker or systemd the codes would litter the logs.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data folder {}", config.data_dir.display()))?;
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = config.worker_threads {
        builder.worker_threads(threads);
    }
    let rt = builder
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let workers = rt.metrics().num_workers();
    rt.block_on(async move {
        let runtime = Runtime::new(config).await?;
        let bound = runtime.listen().await?;
        let http = xmppd_http::listen(&runtime).await?;
        let proxy = xmppd_core::proxy65::start(&runtime.server).await?;
        tracing::info!(
            listeners = bound.len() + http.len() + usize::from(proxy.is_some()),
            workers,
            "xmppd {} ready",
            env!("CARGO_PKG_VERSION")
        );
        wait_for_signals(&runtime).await?;
        tracing::info!("stopping");
        runtime.shutdown().await;
        runtime.server.storage.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

async fn wait_for_signals(runtime: &Runtime) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    loop {
        tokio::select! {
            _ = hup.recv() => runtime.reload_certificates(),
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        }
    }
}
