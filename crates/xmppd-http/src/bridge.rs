//! Glue between the framed HTTP transports (WebSocket, BOSH) and xmppd's client session core:
//! each session runs the same connection task as TCP clients (`xmppd_core::c2s`), over an
//! in-memory pipe whose far end the transport feeds through [`xmppd_stream::framed`].

use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::io::DuplexStream;
use xmppd_core::runtime::Runtime;
use xmppd_stream::Limits;

/// Bytes in flight in one direction of a session's pipe before the writer waits.
const PIPE_BYTES: usize = 64 * 1024;

/// Limits for reading what our own session core writes: it is trusted, but what it writes
/// (a large roster, a forwarded stanza in a wrapper) may exceed what a client may send.
pub const SERVER_LIMITS: Limits = Limits {
    max_stanza_bytes: 16 * 1024 * 1024,
    max_depth: 128,
    max_attributes: 256,
};

/// Starts a client session and returns the transport's end of its pipe.
pub fn start_session(runtime: &Arc<Runtime>, peer: SocketAddr) -> DuplexStream {
    let (server_end, transport_end) = tokio::io::duplex(PIPE_BYTES);
    tokio::spawn(xmppd_core::c2s::serve_bridged(
        runtime.clone(),
        server_end,
        peer,
    ));
    transport_end
}

/// The limits a client's stanzas are held to, the same as over TCP.
pub fn client_limits(runtime: &Runtime) -> Limits {
    xmppd_core::c2s::client_limits(runtime)
}

/// The client's address: the connecting one, or the one a trusted proxy forwarded, so
/// per-address limits count clients rather than the proxy.
pub fn client_addr(runtime: &Runtime, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
    let trusted = runtime
        .server
        .config
        .http
        .as_ref()
        .is_some_and(|http| http.trusted_proxies.contains(&peer.ip()));
    if !trusted {
        return peer;
    }
    // The last address is the one our trusted proxy saw connect.
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    match forwarded {
        Some(ip) => SocketAddr::new(ip, 0),
        None => peer,
    }
}
