//! XMPP over BOSH: XEP-0124 (sessions, request ids, long polling) carrying XEP-0206 (the
//! XMPP stream, restarts via `xmpp:restart`).
//!
//! Each BOSH session runs the ordinary client session core behind a bridge (see
//! [`crate::bridge`]); [`crate::bosh_session`] keeps the per-session HTTP state.

use crate::bosh_session::{Batch, Params, RidCheck, Session};
use crate::bridge;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use minidom::Element;
use rxml::xml_ncname;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use xmppd_core::runtime::Runtime;
use xmppd_stream::framed::{self, Frame};
use xmppd_stream::{StreamHeader, ns};

const HTTPBIND: &str = "http://jabber.org/protocol/httpbind";
const XBOSH: &str = "urn:xmpp:xbosh";
/// Longest we hold a request, whatever the client asks (XEP-0124 §7.1 `wait`).
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Requests held at once (`hold`); one is what every current client uses.
const MAX_HOLD: usize = 1;
/// Without a request for this long, a session is gone (`inactivity`).
const INACTIVITY: Duration = Duration::from_secs(60);
/// Shortest interval between polling requests (`polling`).
const POLLING_SECS: u64 = 2;
/// Sessions at once on this server, so strangers cannot fill memory with idle ones.
const MAX_SESSIONS: usize = 10_000;
/// Room in a body beyond its stanzas' limit for the wrapper's own attributes.
const BODY_OVERHEAD: usize = 4096;

#[derive(Clone)]
struct Bosh {
    runtime: Arc<Runtime>,
    sessions: Arc<Mutex<HashMap<String, Arc<Session>>>>,
}

impl Bosh {
    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The BOSH route at `http.bosh_path`, when `[http]` is configured.
pub fn routes(runtime: &Arc<Runtime>) -> Router {
    let Some(http) = &runtime.server.config.http else {
        return Router::new();
    };
    let limit = bridge::client_limits(runtime).max_stanza_bytes + BODY_OVERHEAD;
    let state = Bosh {
        runtime: runtime.clone(),
        sessions: Arc::default(),
    };
    Router::new()
        .route(&http.bosh_path, post(request).options(preflight))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Web clients on other origins may use BOSH: CORS on every answer.
fn cors() -> [(header::HeaderName, &'static str); 4] {
    [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS"),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type"),
        (header::ACCESS_CONTROL_MAX_AGE, "86400"),
    ]
}

async fn preflight() -> Response {
    (StatusCode::NO_CONTENT, cors()).into_response()
}

fn reply(status: StatusCode, body: Vec<u8>) -> Response {
    let content_type = [(header::CONTENT_TYPE, "text/xml; charset=utf-8")];
    (status, cors(), content_type, body).into_response()
}

/// `<body type='terminate' condition=.../>` (XEP-0124 §17).
fn terminate(status: StatusCode, condition: &str) -> Response {
    let body = Element::builder("body", HTTPBIND)
        .attr(xml_ncname!("type").to_owned(), "terminate")
        .attr(xml_ncname!("condition").to_owned(), condition)
        .build();
    reply(
        status,
        xmppd_stream::writer::standalone(&body).unwrap_or_default(),
    )
}

async fn request(
    State(bosh): State<Bosh>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let limits = xmppd_stream::Limits {
        max_stanza_bytes: bridge::client_limits(&bosh.runtime).max_stanza_bytes + BODY_OVERHEAD,
        ..bridge::client_limits(&bosh.runtime)
    };
    let Ok(body) = framed::parse_element(&bytes, limits) else {
        return terminate(StatusCode::BAD_REQUEST, "bad-request");
    };
    let rid = body.attr("rid").and_then(|r| r.parse::<u64>().ok());
    let (true, Some(rid)) = (body.is("body", HTTPBIND), rid) else {
        return terminate(StatusCode::BAD_REQUEST, "bad-request");
    };
    match body.attr("sid") {
        None => {
            let peer = bridge::client_addr(&bosh.runtime, peer, &headers);
            create(&bosh, &body, rid, peer).await
        }
        Some(sid) => {
            let session = bosh.sessions().get(sid).cloned();
            match session {
                Some(session) => continue_session(&bosh, &session, &body, rid).await,
                None => terminate(StatusCode::NOT_FOUND, "item-not-found"),
            }
        }
    }
}

/// The stream header a body stands for: its `to` and language (XEP-0206 §4).
fn open_frame(to: &str, body: &Element) -> Frame {
    Frame::Open(StreamHeader {
        to: Some(to.to_owned()),
        version: Some("1.0".into()),
        lang: body
            .attr_ns(rxml::Namespace::xml().as_str(), "lang")
            .map(str::to_owned),
        xmlns: ns::JABBER_CLIENT.into(),
        ..StreamHeader::default()
    })
}

/// Session creation (XEP-0124 §7).
async fn create(bosh: &Bosh, body: &Element, rid: u64, peer: SocketAddr) -> Response {
    let Some(to) = body.attr("to") else {
        return terminate(StatusCode::BAD_REQUEST, "bad-request");
    };
    let seconds = |name: &str| body.attr(name).and_then(|v| v.parse::<u64>().ok());
    let params = Params {
        wait: Duration::from_secs(seconds("wait").unwrap_or(60)).min(MAX_WAIT),
        hold: (seconds("hold").unwrap_or(1) as usize).min(MAX_HOLD),
        inactivity: INACTIVITY,
    };
    let Some(sid) = new_sid() else {
        return terminate(StatusCode::INTERNAL_SERVER_ERROR, "internal-server-error");
    };
    if bosh.sessions().len() >= MAX_SESSIONS {
        return terminate(StatusCode::SERVICE_UNAVAILABLE, "system-shutdown");
    }
    let pipe = bridge::start_session(&bosh.runtime, peer);
    let session = Session::start(sid.clone(), to.to_owned(), params, rid, pipe);
    bosh.sessions().insert(sid, session.clone());
    tokio::spawn(reap_when_idle(bosh.clone(), session.clone()));
    session.send(&open_frame(to, body)).await;
    let batch = session.collect().await;
    respond(bosh, &session, rid, batch, true).await
}

/// A request in an existing session: rid order, payload, restart, terminate, then hold.
async fn continue_session(
    bosh: &Bosh,
    session: &Arc<Session>,
    body: &Element,
    rid: u64,
) -> Response {
    session.touch();
    let check = match session.check_rid(rid) {
        RidCheck::Ahead => session.wait_for_turn(rid).await,
        other => other,
    };
    match check {
        RidCheck::Next => {}
        RidCheck::Repeat(reply_bytes) => return reply(StatusCode::OK, reply_bytes),
        RidCheck::Ahead | RidCheck::Invalid => {
            end(bosh, session).await;
            return terminate(StatusCode::NOT_FOUND, "item-not-found");
        }
    }
    for child in body.children() {
        if !session.send(&Frame::Element(child.clone())).await {
            break;
        }
    }
    if body.attr_ns(XBOSH, "restart") == Some("true") {
        session.send(&open_frame(&session.host, body)).await;
    }
    if body.attr("type") == Some("terminate") {
        session.send(&Frame::Close).await;
        end(bosh, session).await;
        let bytes = body_bytes(bosh, session, Vec::new(), Some(false), None, false);
        return reply(StatusCode::OK, bytes);
    }
    let batch = session.collect().await;
    respond(bosh, session, rid, batch, false).await
}

async fn respond(
    bosh: &Bosh,
    session: &Arc<Session>,
    rid: u64,
    batch: Batch,
    creation: bool,
) -> Response {
    if batch.ended.is_some() {
        end(bosh, session).await;
    }
    let Batch {
        elements,
        ended,
        authid,
    } = batch;
    let bytes = body_bytes(bosh, session, elements, ended, authid, creation);
    session.remember(rid, &bytes);
    reply(StatusCode::OK, bytes)
}

/// The response `<body/>`; the creation response carries the session's parameters.
fn body_bytes(
    bosh: &Bosh,
    session: &Session,
    elements: Vec<Element>,
    ended: Option<bool>,
    authid: Option<String>,
    creation: bool,
) -> Vec<u8> {
    let mut body = Element::builder("body", HTTPBIND).build();
    let mut set = |name: &rxml::NcNameStr, value: String| {
        body.set_attr(rxml::Namespace::NONE, name.to_owned(), value);
    };
    if creation {
        let p = session.params;
        set(xml_ncname!("sid"), session.sid.clone());
        set(xml_ncname!("wait"), p.wait.as_secs().to_string());
        set(xml_ncname!("hold"), p.hold.to_string());
        set(xml_ncname!("requests"), p.requests().to_string());
        set(
            xml_ncname!("inactivity"),
            p.inactivity.as_secs().to_string(),
        );
        set(xml_ncname!("polling"), POLLING_SECS.to_string());
        set(xml_ncname!("ver"), "1.11".to_owned());
        set(xml_ncname!("from"), session.host.clone());
        if let Some(authid) = authid {
            set(xml_ncname!("authid"), authid);
        }
        let max = bridge::client_limits(&bosh.runtime).max_stanza_bytes;
        set(xml_ncname!("maxbytes"), max.to_string());
        for (name, value) in [
            (xml_ncname!("version"), "1.0"),
            (xml_ncname!("restartlogic"), "true"),
        ] {
            body.set_attr(XBOSH.into(), name.to_owned(), value.to_owned());
        }
    }
    if let Some(error) = ended {
        body.set_attr(
            rxml::Namespace::NONE,
            xml_ncname!("type").to_owned(),
            "terminate".to_owned(),
        );
        if error {
            // XEP-0206 §6: the stream error itself is inside.
            body.set_attr(
                rxml::Namespace::NONE,
                xml_ncname!("condition").to_owned(),
                "remote-stream-error".to_owned(),
            );
        }
    }
    for el in elements {
        body.append_child(el);
    }
    xmppd_stream::writer::standalone(&body).unwrap_or_default()
}

/// Forgets the session and ends its session core.
async fn end(bosh: &Bosh, session: &Session) {
    bosh.sessions().remove(&session.sid);
    session.shut_down().await;
}

/// Ends a session nobody polls any more (XEP-0124 §7.1 `inactivity`).
async fn reap_when_idle(bosh: Bosh, session: Arc<Session>) {
    loop {
        if !bosh.sessions().contains_key(&session.sid) {
            return;
        }
        match session.idle_deadline() {
            Some(deadline) if deadline <= tokio::time::Instant::now() => {
                tracing::debug!("BOSH session inactive, ending it");
                end(&bosh, &session).await;
                return;
            }
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            // A held request ends within `wait`; look again then.
            None => tokio::time::sleep(session.params.wait).await,
        }
    }
}

/// A session id nobody can guess (XEP-0124 §7.1: it authenticates every later request).
fn new_sid() -> Option<String> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
