//! XEP-0156 host-meta documents (RFC 6415): XRD (XML) and JRD (JSON) with the BOSH and
//! WebSocket endpoints.

use crate::error::DeployError;
use crate::model::Model;
use minidom::Element;
use minidom::rxml::NcName;

const XRD_NS: &str = "http://docs.oasis-open.org/ns/xri/xrd-1.0";
const REL_BOSH: &str = "urn:xmpp:alt-connections:xbosh";
const REL_WEBSOCKET: &str = "urn:xmpp:alt-connections:websocket";

/// The public HTTPS origin, with the port when it is not 443.
pub fn origin(model: &Model) -> String {
    match model.ports.https {
        Some(443) | None => format!("https://{}", model.domain),
        Some(port) => format!("https://{}:{port}", model.domain),
    }
}

fn links(model: &Model) -> Vec<(&'static str, String)> {
    let base = origin(model);
    let mut out = Vec::new();
    if model.http.bosh {
        out.push((REL_BOSH, format!("{base}/http-bind")));
    }
    if model.http.websocket {
        let ws = base.replacen("https://", "wss://", 1);
        out.push((REL_WEBSOCKET, format!("{ws}/xmpp-websocket")));
    }
    out
}

fn ncname(name: &str) -> Result<NcName, DeployError> {
    NcName::try_from(name).map_err(|e| DeployError::RenderHostMeta {
        message: format!("XML name {name}: {e}"),
    })
}

/// `/.well-known/host-meta` (XRD).
pub fn xrd(model: &Model) -> Result<String, DeployError> {
    let mut root = Element::builder("XRD", XRD_NS);
    for (rel, href) in links(model) {
        let link = Element::builder("Link", XRD_NS)
            .attr(ncname("rel")?, rel)
            .attr(ncname("href")?, href)
            .build();
        root = root.append(link);
    }
    let mut out = Vec::new();
    root.build()
        .write_to_decl(&mut out)
        .map_err(|e| DeployError::RenderHostMeta {
            message: format!("host-meta: {e}"),
        })?;
    out.push(b'\n');
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `/.well-known/host-meta.json` (JRD).
pub fn jrd(model: &Model) -> String {
    let links: Vec<_> = links(model)
        .into_iter()
        .map(|(rel, href)| serde_json::json!({ "rel": rel, "href": href }))
        .collect();
    let mut text =
        serde_json::to_string_pretty(&serde_json::json!({ "links": links })).unwrap_or_default();
    text.push('\n');
    text
}
