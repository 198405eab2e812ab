//! A certificate renewed while a client is connected is served to the next client after SIGHUP,
//! and the first client's TLS session stays up and still talks XMPP: real xmppd, real pebble.

mod deploy_certs_support;

use deploy_certs_support::{Guard, Pebble, PebbleConfig, Spec, free_port, wait_for_port};
use rustls_pki_types::{CertificateDer, ServerName};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use x509_parser::prelude::{FromDer as _, X509Certificate};

/// The xmppd binary beside `deploy` in the same target folder, built if missing.
fn xmppd_binary() -> PathBuf {
    let deploy = Path::new(env!("CARGO_BIN_EXE_deploy"));
    let bin = deploy.with_file_name("xmppd");
    if !bin.exists() {
        let target = deploy
            .parent()
            .and_then(Path::parent)
            .expect("target folder");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["build", "-p", "xmppd"])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build -p xmppd");
        assert!(status.success());
    }
    bin
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A direct-TLS (XEP-0368) client connection that trusts only pebble's issuing root.
fn connect(port: u16, root: &CertificateDer<'static>) -> Tls {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).expect("root");
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"xmpp-client".to_vec()];
    let name = ServerName::try_from("xmpp.test").expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("conn");
    let sock = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).expect("TLS handshake");
    }
    tls
}

/// Serial of the certificate the server presented.
fn served_serial(tls: &Tls) -> String {
    let certs = tls.conn.peer_certificates().expect("server certificate");
    let (_, cert) = X509Certificate::from_der(certs[0].as_ref()).expect("x509");
    cert.raw_serial_as_string().replace(':', "")
}

/// Opens an XMPP stream and reads until the stream features arrive.
fn stream_features(tls: &mut Tls) -> String {
    // A constant stream header (RFC 6120 section 4.2), not built from values.
    const HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream to='xmpp.test' version='1.0' \
xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    tls.write_all(HEADER).expect("stream header");
    tls.flush().expect("flush");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("</stream:features>") {
        let n = tls.read(&mut buf).expect("read features");
        assert!(n > 0, "stream closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_renewed_certificate_reaches_new_clients_without_dropping_the_old_one() {
    let pebble = Pebble::start(PebbleConfig::default());
    let spec = Spec::for_pebble(&pebble, |_| {});
    let issued = spec.deploy(&["certs", "renew"]);
    assert!(issued.status.success());
    let root = pebble.issuing_root();

    // xmppd's config as deploy renders it, pointed at the state directory's tls/ files.
    let model = spec.model();
    let files = deploy::render::render(
        &model,
        &deploy::render::Options {
            root: PathBuf::from("/deploy"),
        },
    )
    .expect("render");
    let mut config = xmppd_config::Config::from_toml(&files["xmppd/xmppd.toml"]).expect("config");
    let port = free_port();
    let work = tempfile::tempdir().expect("tempdir");
    config.data_dir = work.path().join("data");
    config.listeners = xmppd_config::Listeners {
        c2s_direct_tls: vec![([127, 0, 0, 1], port).into()],
        // The spec enables upload, which xmppd serves over its plain HTTP listener.
        http: vec![([127, 0, 0, 1], free_port()).into()],
        ..xmppd_config::Listeners::default()
    };
    config.vhosts[0].certificate = spec.state().join("tls/fullchain.pem");
    config.vhosts[0].key = spec.state().join("tls/privkey.pem");
    let config_path = work.path().join("xmppd.toml");
    std::fs::write(&config_path, toml::to_string(&config).expect("toml")).expect("write");
    let mut child = Command::new(xmppd_binary())
        .arg("run")
        .arg("--config")
        .arg(&config_path)
        .spawn()
        .expect("xmppd");
    wait_for_port(port, &mut child);
    let xmppd = Guard(child);

    let mut first = connect(port, &root);
    let old = served_serial(&first);

    let renewed = spec.deploy(&["certs", "renew", "--force"]);
    assert!(renewed.status.success());
    let new = deploy_certs_support::serial(&renewed);
    assert_ne!(new, old);
    let hup = Command::new("kill")
        .args(["-HUP", &xmppd.0.id().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(hup.success());

    // The reload is asynchronous: new clients see the new certificate once it is done.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut second = connect(port, &root);
    while served_serial(&second) != new {
        assert!(Instant::now() < deadline, "xmppd still serves {old}");
        std::thread::sleep(Duration::from_millis(50));
        second = connect(port, &root);
    }
    assert!(stream_features(&mut second).contains("<mechanisms"));

    // The first client, still on the old certificate, is connected and talks XMPP.
    assert_eq!(served_serial(&first), old);
    let features = stream_features(&mut first);
    assert!(features.contains("<mechanisms"), "{features}");
}
