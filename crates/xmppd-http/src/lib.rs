//! xmppd's HTTP side (axum), served on `listeners.http` behind a TLS-terminating proxy.
//!
//! Each area lives in a file of its own and contributes its routes to [`app`].

mod bosh;
mod bosh_session;
mod bridge;
mod host_meta;
mod websocket;

use axum::Router;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use xmppd_core::runtime::Runtime;

pub mod register_page;
pub mod upload;

/// Why the HTTP side could not start.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("binding the HTTP listener {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Every HTTP route xmppd serves.
pub fn app(runtime: &Arc<Runtime>) -> Router {
    // Areas add themselves here: `.merge(area::routes(runtime))`.
    Router::new()
        .route("/health", get(health))
        .merge(websocket::routes(runtime))
        .merge(bosh::routes(runtime))
        .merge(host_meta::routes(runtime))
        .merge(upload::routes(runtime))
        .merge(register_page::routes(runtime))
}

/// Liveness for container health checks: answers as soon as the listener is up.
async fn health() -> &'static str {
    "ok\n"
}

/// Binds every `listeners.http` address and serves [`app`] on it. Returns the bound addresses
/// (useful when the config asked for port 0).
pub async fn listen(runtime: &Arc<Runtime>) -> Result<Vec<SocketAddr>, HttpError> {
    let mut bound = Vec::new();
    for addr in &runtime.server.config.listeners.http {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| HttpError::Bind {
                addr: *addr,
                source,
            })?;
        let local = listener.local_addr().map_err(|source| HttpError::Bind {
            addr: *addr,
            source,
        })?;
        tracing::info!(%local, "listening for HTTP");
        let app = app(runtime).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(%err, "HTTP listener stopped");
            }
        });
        bound.push(local);
    }
    Ok(bound)
}
