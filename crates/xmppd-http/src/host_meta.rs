//! XEP-0156 (Discovering Alternative XMPP Connection Methods): `/.well-known/host-meta`
//! (XRD, RFC 6415) and `/.well-known/host-meta.json` listing our BOSH and WebSocket URLs.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use minidom::Element;
use std::sync::Arc;
use xmppd_config::Http;
use xmppd_core::runtime::Runtime;

const XRD: &str = "http://docs.oasis-open.org/ns/xri/xrd-1.0";
const REL_BOSH: &str = "urn:xmpp:alt-connections:xbosh";
const REL_WEBSOCKET: &str = "urn:xmpp:alt-connections:websocket";

/// The two host-meta routes, when `[http]` is configured.
pub fn routes(runtime: &Arc<Runtime>) -> Router {
    let Some(http) = &runtime.server.config.http else {
        return Router::new();
    };
    let links = Arc::new(links(http));
    let xml_links = links.clone();
    Router::new()
        .route(
            "/.well-known/host-meta",
            get(move || {
                let links = xml_links.clone();
                async move { xrd(&links) }
            }),
        )
        .route(
            "/.well-known/host-meta.json",
            get(move || {
                let links = links.clone();
                async move { json(&links) }
            }),
        )
}

/// `(rel, href)` for BOSH and WebSocket, from the public base URL.
fn links(http: &Http) -> Vec<(&'static str, String)> {
    let base = http.public_url.trim_end_matches('/');
    // The WebSocket URL has the same authority; only the scheme differs.
    let ws_base = match base.split_once("://") {
        Some(("http", rest)) => format!("ws://{rest}"),
        Some((_, rest)) => format!("wss://{rest}"),
        None => format!("wss://{base}"),
    };
    vec![
        (REL_BOSH, format!("{base}{}", http.bosh_path)),
        (REL_WEBSOCKET, format!("{ws_base}{}", http.websocket_path)),
    ]
}

/// Web clients on other origins read these, hence the CORS header.
const CORS: (header::HeaderName, &str) = (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");

fn xrd(links: &[(&'static str, String)]) -> impl IntoResponse + use<> {
    let mut root = Element::builder("XRD", XRD).build();
    for (rel, href) in links {
        root.append_child(
            Element::builder("Link", XRD)
                .attr(rxml::xml_ncname!("rel").to_owned(), *rel)
                .attr(rxml::xml_ncname!("href").to_owned(), href.as_str())
                .build(),
        );
    }
    let body = xmppd_stream::writer::standalone(&root).unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "application/xrd+xml; charset=utf-8"),
            CORS,
        ],
        body,
    )
}

fn json(links: &[(&'static str, String)]) -> impl IntoResponse + use<> {
    let links: Vec<_> = links
        .iter()
        .map(|(rel, href)| serde_json::json!({ "rel": rel, "href": href }))
        .collect();
    (
        [(header::CONTENT_TYPE, "application/json"), CORS],
        serde_json::json!({ "links": links }).to_string(),
    )
}
