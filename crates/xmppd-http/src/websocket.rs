//! XMPP over WebSocket (RFC 7395): subprotocol `xmpp`, one element per text message,
//! `<open/>` and `<close/>` for the stream's start and end.
//!
//! Each connection runs the ordinary client session (negotiation, routing, CSI, ...) behind a
//! bridge (see [`crate::bridge`]); this file only moves frames between the socket and it.

use crate::bridge;
use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xmppd_core::runtime::Runtime;
use xmppd_stream::framed::{self, Frame, ServerFrames};
use xmppd_stream::{DefinedCondition, StreamError};

/// The RFC 7395 §3.1 subprotocol name.
const SUBPROTOCOL: &str = "xmpp";

/// The WebSocket route at `http.websocket_path`, when `[http]` is configured.
pub fn routes(runtime: &Arc<Runtime>) -> Router {
    let Some(http) = &runtime.server.config.http else {
        return Router::new();
    };
    Router::new()
        .route(&http.websocket_path, get(upgrade))
        .with_state(runtime.clone())
}

async fn upgrade(
    State(runtime): State<Arc<Runtime>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let limit = bridge::client_limits(&runtime).max_stanza_bytes;
    let ws = ws
        .protocols([SUBPROTOCOL])
        .max_message_size(limit)
        .max_frame_size(limit);
    // RFC 7395 §3.1: without the xmpp subprotocol there is no XMPP session to speak of.
    if ws.selected_protocol().is_none() {
        return (
            StatusCode::BAD_REQUEST,
            "the xmpp subprotocol is required\n",
        )
            .into_response();
    }
    let peer = bridge::client_addr(&runtime, peer, &headers);
    ws.on_upgrade(move |socket| session(runtime, socket, peer))
}

/// Moves frames until either side ends the session.
async fn session(runtime: Arc<Runtime>, mut socket: WebSocket, peer: SocketAddr) {
    let limits = bridge::client_limits(&runtime);
    let (mut from_server, mut to_server) = tokio::io::split(bridge::start_session(&runtime, peer));
    let mut frames = ServerFrames::new(bridge::SERVER_LIMITS);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            message = socket.recv() => {
                let bytes = match message {
                    Some(Ok(Message::Text(text))) => framed::parse_message(text.as_bytes(), limits)
                        .map_err(|e| e.to_stream_error())
                        .and_then(|frame| framed::to_stream(&frame).map_err(|_| {
                            StreamError::new(DefinedCondition::InternalServerError)
                        })),
                    // §3.2: XMPP travels in text messages only.
                    Some(Ok(Message::Binary(_))) => Err(StreamError::new(
                        DefinedCondition::UnsupportedEncoding,
                    )),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                };
                match bytes {
                    Ok(bytes) => {
                        if to_server.write_all(&bytes).await.is_err() {
                            break;
                        }
                    }
                    Err(error) => {
                        fail(&mut socket, &error).await;
                        break;
                    }
                }
            }
            read = from_server.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let Ok(out) = frames.feed(&buf[..n]) else { break };
                for frame in out {
                    let Ok(message) = framed::to_message(&frame) else { continue };
                    let Ok(text) = String::from_utf8(message) else { continue };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
    // Dropping our end of the pipe ends the session core's task the way a closed socket does.
    let _ = socket.send(Message::Close(None)).await;
}

/// A stream error the bridge found in the client's framing (RFC 7395 §3.6), then `<close/>`.
async fn fail(socket: &mut WebSocket, error: &StreamError) {
    for frame in [Frame::Element(error.to_element()), Frame::Close] {
        if let Ok(Ok(text)) = framed::to_message(&frame).map(String::from_utf8) {
            let _ = socket.send(Message::Text(text.into())).await;
        }
    }
}
