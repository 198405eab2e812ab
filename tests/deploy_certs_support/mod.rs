//! A real pebble ACME server (with pebble-challtestsrv for DNS) on free loopback ports, a copy
//! of `examples/pebble.yaml` pointed at it, and helpers to run `deploy` against that copy.

#![allow(dead_code)] // each test file uses a different part of the harness

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A free TCP port on loopback (bound, then released for the server to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn free_udp_and_tcp_port() -> u16 {
    loop {
        let port = free_port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Kills the child when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something accepts TCP connections on `port` (the server is ready).
pub fn wait_for_port(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server on port {port} exited: {status}");
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Settings of one pebble instance.
#[derive(Default, Clone)]
pub struct PebbleConfig {
    /// `certificateValidityPeriod` in seconds (pebble's default is 5 years).
    pub validity: Option<u64>,
    /// `domainBlocklist`: orders naming these are refused.
    pub blocklist: Vec<String>,
}

pub struct Pebble {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub management: u16,
    /// Where pebble validates HTTP-01 and TLS-ALPN-01.
    pub http_port: u16,
    pub tls_port: u16,
    /// PEM of the CA that signed pebble's HTTPS certificate (the spec's `ca_bundle`).
    pub tls_ca_pem: String,
    pebble: Option<Guard>,
    _challtestsrv: Guard,
}

impl Pebble {
    pub fn start(config: PebbleConfig) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        // A throwaway CA and a 127.0.0.1/localhost certificate for pebble's own HTTPS.
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "pebble test TLS CA");
        let ca_cert = ca.self_signed(&ca_key).expect("ca");
        let issuer = rcgen::Issuer::from_params(&ca, &ca_key);
        let key = KeyPair::generate().expect("key");
        let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("params");
        let cert = params.signed_by(&key, &issuer).expect("cert");
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).expect("write");
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).expect("write");

        let port = free_port();
        let management = free_port();
        let http_port = free_port();
        let tls_port = free_port();
        let dns = free_udp_and_tcp_port();
        let chall_mgmt = free_port();
        let mut pebble = serde_json::json!({
            "listenAddress": format!("127.0.0.1:{port}"),
            "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": dir.path().join("cert.pem"),
            "privateKey": dir.path().join("key.pem"),
            "httpPort": http_port,
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
            "domainBlocklist": config.blocklist,
        });
        if let Some(v) = config.validity {
            pebble["certificateValidityPeriod"] = v.into();
        }
        let cfg = dir.path().join("pebble-config.json");
        std::fs::write(&cfg, serde_json::json!({ "pebble": pebble }).to_string()).expect("cfg");

        // challtestsrv answers every A query with 127.0.0.1: any *.test name is loopback.
        let mut chall = Command::new("pebble-challtestsrv")
            .args(["-dns01", &format!("127.0.0.1:{dns}")])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-management", &format!("127.0.0.1:{chall_mgmt}")])
            .args(["-defaultIPv6", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble-challtestsrv (apt-get install pebble)");
        wait_for_port(chall_mgmt, &mut chall);
        let chall = Guard(chall);
        let mut child = Command::new("pebble")
            .arg("-config")
            .arg(&cfg)
            .args(["-dnsserver", &format!("127.0.0.1:{dns}")])
            .env("PEBBLE_VA_NOSLEEP", "1")
            // Every order must answer its challenges: no reuse of valid authorizations, else
            // a renewal could pass without the challenge path under test.
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble (apt-get install pebble)");
        wait_for_port(port, &mut child);
        wait_for_port(management, &mut child);
        Self {
            dir,
            port,
            management,
            http_port,
            tls_port,
            tls_ca_pem: ca_cert.pem(),
            pebble: Some(Guard(child)),
            _challtestsrv: chall,
        }
    }

    pub fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.port)
    }

    /// Stops pebble (challtestsrv keeps running): the server becomes unreachable.
    pub fn stop(&mut self) {
        self.pebble = None;
    }

    /// The root pebble issues under (it makes a new one at every start).
    pub fn issuing_root(&self) -> CertificateDer<'static> {
        let body = https_get(&self.tls_ca_pem, self.management, "/roots/0");
        CertificateDer::from_pem_slice(body.as_bytes()).expect("root PEM")
    }
}

/// GET over HTTPS on loopback, trusting `ca_pem`; returns the body.
fn https_get(ca_pem: &str, port: u16, path: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("ca"))
        .expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("conn");
    let sock = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = Vec::new();
    // Pebble closes without close_notify at times: keep what arrived.
    let _ = tls.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

/// A copy of `examples/pebble.yaml` in its own folder, pointed at `pebble`, with
/// `pebble/ca.pem` beside it.
pub struct Spec {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Spec {
    /// `edit` may change the parsed spec (ports, challenge) before it is written.
    pub fn for_pebble(pebble: &Pebble, edit: impl FnOnce(&mut serde_yaml::Value)) -> Self {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pebble.yaml");
        let text = std::fs::read_to_string(example).expect("example");
        let mut spec: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
        spec["ports"]["http"] = pebble.http_port.into();
        spec["ports"]["https"] = pebble.tls_port.into();
        for key in ["c2s", "c2s_direct_tls", "s2s", "s2s_direct_tls"] {
            spec["ports"][key] = free_port().into();
        }
        spec["tls"]["certificates"]["acme"]["directory"] = pebble.directory().into();
        edit(&mut spec);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("pebble")).expect("mkdir");
        std::fs::write(dir.path().join("pebble/ca.pem"), &pebble.tls_ca_pem).expect("ca");
        let path = dir.path().join("pebble.yaml");
        std::fs::write(&path, serde_yaml::to_string(&spec).expect("yaml")).expect("spec");
        Self { dir, path }
    }

    /// The state directory the spec names (`runtime.state_dir`, relative to the spec).
    pub fn state(&self) -> PathBuf {
        self.dir.path().join(".state/pebble")
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.state().join(rel)).unwrap_or_default()
    }

    /// Runs `deploy ARGS... SPEC`.
    pub fn deploy(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_deploy"))
            .args(args)
            .arg(&self.path)
            .output()
            .expect("run deploy");
        eprintln!(
            "deploy {args:?}: {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn model(&self) -> deploy::Model {
        deploy::validate::validate_file(&self.path)
            .expect("read")
            .model
            .expect("valid spec")
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The serial line of `deploy certs` output.
pub fn serial(out: &Output) -> String {
    stdout(out)
        .lines()
        .find_map(|l| l.strip_prefix("serial:"))
        .map(|s| s.trim().to_owned())
        .expect("serial line")
}
