//! Semantic checks of the network side: ports (unique, in range), subdomains (RFC 1123 labels,
//! unique), the HTTPS front and the header values nginx will carry.

use super::Ports;
use super::names::is_dns_label;
use crate::diag::Diagnostic;
use crate::spec::Spec;
use std::collections::BTreeMap;

pub(super) fn ports(spec: &Spec, d: &mut Vec<Diagnostic>) -> Ports {
    let p = &spec.ports;
    let mut used: Vec<(&str, Option<u16>)> = vec![
        ("c2s", p.c2s),
        ("c2s_direct_tls", p.c2s_direct_tls),
        ("s2s", p.s2s),
        ("s2s_direct_tls", p.s2s_direct_tls),
        ("http", p.http),
        ("https", p.https),
    ];
    if spec.services.proxy65.is_some() {
        used.push(("proxy65", p.proxy65));
        if p.proxy65.is_none() {
            d.push(Diagnostic::error(
                "ports.proxy65",
                "services.proxy65 needs a port",
            ));
        }
    }
    let mut owners: BTreeMap<u16, &str> = BTreeMap::new();
    for (key, port) in &used {
        let Some(port) = port else { continue };
        if *port == 0 {
            d.push(Diagnostic::error(
                format!("ports.{key}"),
                "port 0 is not a port",
            ));
        } else if let Some(first) = owners.insert(*port, key) {
            owners.insert(*port, first);
            d.push(Diagnostic::error(
                format!("ports.{key}"),
                format!("port {port} is already used by ports.{first}"),
            ));
        }
    }
    if p.c2s.is_none() && p.c2s_direct_tls.is_none() {
        d.push(Diagnostic::error(
            "ports",
            "clients need ports.c2s or ports.c2s_direct_tls",
        ));
    }
    Ports {
        c2s: p.c2s,
        c2s_direct_tls: p.c2s_direct_tls,
        s2s: p.s2s,
        s2s_direct_tls: p.s2s_direct_tls,
        http: p.http,
        https: p.https,
    }
}

pub(super) fn subdomains(spec: &Spec, d: &mut Vec<Diagnostic>) {
    let s = &spec.services;
    let labels = [
        (
            "services.muc.subdomain",
            s.muc.as_ref().map(|m| &m.subdomain),
        ),
        (
            "services.upload.subdomain",
            s.upload.as_ref().map(|u| &u.subdomain),
        ),
        (
            "services.proxy65.subdomain",
            s.proxy65.as_ref().map(|p| &p.subdomain),
        ),
    ];
    let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
    for (path, label) in labels {
        let Some(label) = label else { continue };
        if !is_dns_label(label) {
            d.push(
                Diagnostic::error(path, format!("`{label}` is not a DNS label"))
                    .with_hint("one label of a-z, 0-9 and `-`, without dots"),
            );
        } else if let Some(first) = owners.get(label.as_str()) {
            d.push(Diagnostic::error(
                path,
                format!("`{label}` is already used by {first}"),
            ));
        } else if label.len() + 1 + spec.domain.len() > 253 {
            d.push(Diagnostic::error(
                path,
                "the full name is longer than 253 characters",
            ));
        } else {
            owners.insert(label, path);
        }
    }
}

/// The HTTPS front: what needs it, and header values nginx can carry.
pub(super) fn web(spec: &Spec, d: &mut Vec<Diagnostic>) {
    let https = spec.ports.https.is_some();
    let needs = [
        ("services.upload", spec.services.upload.is_some()),
        ("registration.web", spec.registration.web),
        ("http.bosh", spec.http.bosh),
        ("http.websocket", spec.http.websocket),
    ];
    for (path, wanted) in needs {
        if wanted && !https {
            d.push(Diagnostic::error(
                path,
                "needs the HTTPS front, but ports.https is off",
            ));
        }
    }
    if spec.registration.in_band {
        d.push(Diagnostic::warning(
            "registration.in_band",
            "open in-band registration attracts spam accounts",
        ));
    }
    let h = &spec.http.headers;
    let values = [
        ("content_type_options", &h.content_type_options),
        ("referrer_policy", &h.referrer_policy),
        ("content_security_policy", &h.content_security_policy),
        ("frame_options", &h.frame_options),
        ("permissions_policy", &h.permissions_policy),
    ];
    for (key, value) in values {
        if let Some(v) = value {
            header_value(&format!("http.headers.{key}"), v, d);
        }
    }
    for (name, value) in &h.extra {
        let path = format!("http.headers.extra.{name}");
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        if !token {
            d.push(Diagnostic::error(
                path.clone(),
                format!("`{name}` is not a header name"),
            ));
        }
        header_value(&path, value, d);
    }
    if h.content_security_policy.is_none() || h.hsts.is_none() {
        d.push(Diagnostic::warning(
            "http.headers",
            "HSTS or CSP turned off",
        ));
    }
}

fn header_value(path: &str, value: &str, d: &mut Vec<Diagnostic>) {
    if value.is_empty()
        || value
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\')
    {
        d.push(
            Diagnostic::error(
                path,
                "header value is empty or has a control character, `\"` or `\\`",
            )
            .with_hint("write `null` to drop a header"),
        );
    }
}
