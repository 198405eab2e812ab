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
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};
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

/// Moves frames until either side ends the session. Each direction runs on its own, so a
/// client that sends much while reading little cannot wedge the session core (the pipe's
/// buffers fill in both directions), and a client going away is always noticed.
async fn session(runtime: Arc<Runtime>, socket: WebSocket, peer: SocketAddr) {
    let limits = bridge::client_limits(&runtime);
    let (from_server, to_server) = tokio::io::split(bridge::start_session(&runtime, peer));
    let (mut sink, stream) = socket.split();
    let failure = tokio::select! {
        failure = upstream(stream, to_server, limits) => failure,
        () = downstream(&mut sink, from_server) => None,
    };
    if let Some(error) = failure {
        fail(&mut sink, &error).await;
    }
    // Our ends of the pipe are gone now: the session core sees its input end, as with a
    // closed socket.
    let _ = sink.send(Message::Close(None)).await;
}

/// Client to session core. Returns the stream error for input the framing refused.
async fn upstream(
    mut stream: SplitStream<WebSocket>,
    mut to_server: WriteHalf<DuplexStream>,
    limits: xmppd_stream::Limits,
) -> Option<StreamError> {
    while let Some(message) = stream.next().await {
        let bytes = match message {
            Ok(Message::Text(text)) => framed::parse_message(text.as_bytes(), limits)
                .map_err(|e| e.to_stream_error())
                .and_then(|frame| {
                    framed::to_stream(&frame)
                        .map_err(|_| StreamError::new(DefinedCondition::InternalServerError))
                }),
            // §3.2: XMPP travels in text messages only.
            Ok(Message::Binary(_)) => Err(StreamError::new(DefinedCondition::UnsupportedEncoding)),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) | Err(_) => break,
        };
        match bytes {
            Ok(bytes) => {
                if to_server.write_all(&bytes).await.is_err() {
                    break;
                }
            }
            Err(error) => return Some(error),
        }
    }
    let _ = to_server.shutdown().await;
    None
}

/// Session core to client, until the core ends its stream or the client is gone.
async fn downstream(
    sink: &mut SplitSink<WebSocket, Message>,
    mut from_server: ReadHalf<DuplexStream>,
) {
    let mut frames = ServerFrames::new(bridge::SERVER_LIMITS);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from_server.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let Ok(out) = frames.feed(&buf[..n]) else {
            return;
        };
        for frame in out {
            let Ok(Ok(text)) = framed::to_message(&frame).map(String::from_utf8) else {
                continue;
            };
            if sink.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
    }
}

/// A stream error the bridge found in the client's framing (RFC 7395 §3.6), then `<close/>`.
async fn fail(sink: &mut SplitSink<WebSocket, Message>, error: &StreamError) {
    for frame in [Frame::Element(error.to_element()), Frame::Close] {
        if let Ok(Ok(text)) = framed::to_message(&frame).map(String::from_utf8) {
            let _ = sink.send(Message::Text(text.into())).await;
        }
    }
}
