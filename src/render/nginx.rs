//! The nginx config of the HTTPS front: TLS per the policy, HSTS and security headers,
//! BOSH (XEP-0206) and WebSocket (RFC 7395) proxied to xmppd, XEP-0156 host-meta, the upload
//! subdomain, the ACME webroot and the http -> https redirect.

use super::{XMPPD_HTTP_PORT, paths};
use crate::model::Model;
use crate::spec::{ByteSize, TlsVersion};
use std::fmt::Write as _;
use std::path::Path;

/// An indented nginx config being written; values were validated by the model.
struct Conf {
    out: String,
    depth: usize,
}

impl Conf {
    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{:indent$}{text}", "", indent = self.depth * 4);
    }
    fn open(&mut self, head: &str) {
        self.line(&format!("{head} {{"));
        self.depth += 1;
    }
    fn close(&mut self) {
        self.depth -= 1;
        self.line("}");
    }
    fn blank(&mut self) {
        self.out.push('\n');
    }
}

/// Security headers as `(name, value)`, in a fixed order.
fn headers(model: &Model) -> Vec<(String, String)> {
    let h = &model.http.headers;
    let mut out = Vec::new();
    if let Some(hsts) = &h.hsts {
        let mut v = format!("max-age={}", hsts.max_age);
        if hsts.include_subdomains {
            v.push_str("; includeSubDomains");
        }
        if hsts.preload {
            v.push_str("; preload");
        }
        out.push(("Strict-Transport-Security".to_owned(), v));
    }
    let named = [
        ("X-Content-Type-Options", &h.content_type_options),
        ("Referrer-Policy", &h.referrer_policy),
        ("Content-Security-Policy", &h.content_security_policy),
        ("X-Frame-Options", &h.frame_options),
        ("Permissions-Policy", &h.permissions_policy),
    ];
    for (name, value) in named {
        if let Some(v) = value {
            out.push((name.to_owned(), v.clone()));
        }
    }
    out.extend(h.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// `add_header ... always` for every security header. Repeated in each block that adds a
/// header of its own: nginx drops inherited `add_header`s in such blocks.
fn add_headers(c: &mut Conf, headers: &[(String, String)]) {
    for (name, value) in headers {
        c.line(&format!("add_header {name} \"{value}\" always;"));
    }
}

fn listen_tls(c: &mut Conf, port: u16) {
    // nginx 1.22 (Debian bookworm) spells HTTP/2 on the listen line.
    c.line(&format!("listen {port} ssl http2;"));
    c.line(&format!("listen [::]:{port} ssl http2;"));
}

fn proxy_common(c: &mut Conf) {
    c.line("proxy_pass $xmppd;");
    c.line("proxy_set_header Host $host;");
    // Forwarded for xmppd's per-address limits; logging it is a separate choice.
    c.line("proxy_set_header X-Forwarded-For $remote_addr;");
    c.line("proxy_set_header X-Forwarded-Proto https;");
}

pub fn render(model: &Model, root: &Path) -> String {
    let r = root.display();
    let upstream = format!("http://{}-xmppd:{XMPPD_HTTP_PORT}", model.name);
    let hdrs = headers(model);
    let policy = &model.tls.policy;
    let mut c = Conf {
        out: String::new(),
        depth: 0,
    };
    c.line(&format!(
        "# nginx config of deployment `{}`, rendered by deploy: edits are overwritten.",
        model.name
    ));
    c.line("worker_processes auto;");
    // Writable runtime paths live in /tmp (a tmpfs in the container; the root filesystem and
    // the rendered tree are read-only): nginx creates only the last folder of a temp path.
    c.line("pid /tmp/nginx.pid;");
    c.line("error_log stderr warn;");
    c.blank();
    c.open("events");
    c.line("worker_connections 1024;");
    c.close();
    c.blank();
    c.open("http");
    c.line("server_tokens off;");
    c.open("types");
    c.line("text/html html;");
    c.line("text/plain txt;");
    c.line("application/json json;");
    c.close();
    c.line("default_type application/octet-stream;");
    for (kind, dir) in [
        ("client_body", "client_body"),
        ("proxy", "proxy"),
        ("fastcgi", "fastcgi"),
        ("uwsgi", "uwsgi"),
        ("scgi", "scgi"),
    ] {
        c.line(&format!("{kind}_temp_path /tmp/{dir}_temp;"));
    }
    if model.logging.client_ips {
        c.line("log_format deploy '$remote_addr [$time_iso8601] \"$request\" $status $body_bytes_sent';");
    } else {
        // No client addresses in logs unless the spec allows it (logging.client_ips).
        c.line("log_format deploy '[$time_iso8601] \"$request\" $status $body_bytes_sent';");
    }
    c.line("access_log /dev/stdout deploy;");
    // Docker's embedded DNS: xmppd is looked up per request, so nginx starts (and `nginx -t`
    // passes) before xmppd runs, and follows xmppd across container restarts.
    c.line("resolver 127.0.0.11 valid=10s ipv6=off;");
    c.blank();
    c.line(&format!("ssl_certificate {r}/{};", paths::CERTIFICATE));
    c.line(&format!("ssl_certificate_key {r}/{};", paths::PRIVATE_KEY));
    let protocols = match policy.min_version {
        TlsVersion::Tls12 => "TLSv1.2 TLSv1.3",
        TlsVersion::Tls13 => "TLSv1.3",
    };
    c.line(&format!("ssl_protocols {protocols};"));
    if !policy.openssl_ciphers.is_empty() {
        c.line(&format!(
            "ssl_ciphers {};",
            policy.openssl_ciphers.join(":")
        ));
    }
    c.line(&format!(
        "ssl_ecdh_curve {};",
        policy.openssl_groups.join(":")
    ));
    let prefer = if policy.prefer_server_ciphers {
        "on"
    } else {
        "off"
    };
    c.line(&format!("ssl_prefer_server_ciphers {prefer};"));
    c.line(&format!("ssl_dhparam {r}/{};", paths::DHPARAM));
    c.line("ssl_session_timeout 1d;");
    c.line("ssl_session_cache shared:TLS:10m;");
    c.line("ssl_session_tickets off;");
    c.blank();
    c.open("map $http_upgrade $connection_upgrade");
    c.line("default upgrade;");
    c.line("'' close;");
    c.close();
    let names: Vec<String> = web_names(model);
    if let Some(http) = model.ports.http {
        c.blank();
        c.open("server");
        c.line(&format!("listen {http};"));
        c.line(&format!("listen [::]:{http};"));
        c.line(&format!("server_name {};", names.join(" ")));
        c.open("location /.well-known/acme-challenge/");
        c.line(&format!("root {r}/acme;"));
        c.close();
        c.open("location /");
        let port = match model.ports.https {
            Some(443) | None => String::new(),
            Some(p) => format!(":{p}"),
        };
        c.line(&format!("return 301 https://$host{port}$request_uri;"));
        c.close();
        c.close();
    }
    let https = model.ports.https.unwrap_or(443);
    c.blank();
    c.open("server");
    listen_tls(&mut c, https);
    c.line(&format!("server_name {};", model.domain));
    add_headers(&mut c, &hdrs);
    c.line(&format!("set $xmppd {upstream};"));
    if model.http.bosh {
        c.open("location = /http-bind");
        proxy_common(&mut c);
        c.line("proxy_buffering off;");
        // BOSH holds requests open up to its `wait` (60 s); leave room above it.
        c.line("proxy_read_timeout 120s;");
        c.close();
    }
    if model.http.websocket {
        c.open("location = /xmpp-websocket");
        proxy_common(&mut c);
        c.line("proxy_http_version 1.1;");
        c.line("proxy_set_header Upgrade $http_upgrade;");
        c.line("proxy_set_header Connection $connection_upgrade;");
        c.line("proxy_buffering off;");
        c.line("proxy_read_timeout 900s;");
        c.line("proxy_send_timeout 900s;");
        c.close();
    }
    for (path, mime) in [
        ("/.well-known/host-meta", "application/xrd+xml"),
        ("/.well-known/host-meta.json", "application/jrd+json"),
    ] {
        c.open(&format!("location = {path}"));
        c.line(&format!("root {r}/www;"));
        c.line(&format!("default_type {mime};"));
        add_headers(&mut c, &hdrs);
        c.line("add_header Access-Control-Allow-Origin \"*\" always;");
        c.close();
    }
    if model.registration.web {
        // xmppd serves the form and its submission at exactly this path.
        c.open("location = /register");
        proxy_common(&mut c);
        c.close();
    }
    c.open("location /");
    c.line("return 404;");
    c.close();
    c.close();
    if let Some(upload) = &model.upload {
        c.blank();
        c.open("server");
        listen_tls(&mut c, https);
        c.line(&format!("server_name {};", upload.domain));
        add_headers(&mut c, &hdrs);
        c.line(&format!("set $xmppd {upstream};"));
        c.line(&format!(
            "client_max_body_size {};",
            body_limit(upload.max_file_size)
        ));
        c.open("location /");
        proxy_common(&mut c);
        // Stream uploads to xmppd instead of spooling them to nginx's disk first.
        c.line("proxy_request_buffering off;");
        c.line("proxy_read_timeout 300s;");
        c.close();
        c.close();
    }
    c.close();
    c.out
}

/// Host names nginx answers on port 80: every name of the certificate, for ACME http-01.
fn web_names(model: &Model) -> Vec<String> {
    model.all_domains().iter().map(|d| d.to_string()).collect()
}

/// `client_max_body_size` for an upload limit: the file plus 1 MiB of headroom for the request,
/// rounded up to whole MiB.
pub fn body_limit(max_file: ByteSize) -> String {
    let mib = (max_file.0 + ByteSize::MIB).div_ceil(ByteSize::MIB);
    format!("{mib}m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_limit_has_headroom() {
        assert_eq!(body_limit(ByteSize(100 * ByteSize::MIB)), "101m");
        assert_eq!(body_limit(ByteSize(1)), "2m");
    }
}
