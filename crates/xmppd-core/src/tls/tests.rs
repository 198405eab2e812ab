use super::*;
use rustls::pki_types::ServerName;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn write_cert(dir: &Path, stem: &str, names: &[&str]) -> VirtualHost {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_path = dir.join(format!("{stem}.pem"));
    let key_path = dir.join(format!("{stem}.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    VirtualHost {
        domain: names[0].to_owned(),
        certificate: cert_path,
        key: key_path,
        registration: Default::default(),
    }
}

fn store(vhosts: &[VirtualHost]) -> Arc<CertStore> {
    let provider = Arc::new(provider(&Tls::default()).unwrap());
    Arc::new(CertStore::load(vhosts, provider).unwrap())
}

#[test]
fn sni_picks_the_certificate_that_covers_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_cert(dir.path(), "a", &["a.test", "conference.a.test"]);
    let b = write_cert(dir.path(), "b", &["b.test"]);
    let store = store(&[a, b]);
    let names = |n: Option<&str>| store.lookup(n).unwrap().info.dns_names.clone();
    assert_eq!(names(Some("b.test")), ["b.test"]);
    assert_eq!(
        names(Some("CONFERENCE.a.test")),
        ["a.test", "conference.a.test"]
    );
    // Unknown names and no SNI fall back to the first virtual host.
    assert_eq!(names(Some("nowhere.test"))[0], "a.test");
    assert_eq!(names(None)[0], "a.test");
}

#[test]
fn reload_swaps_certificates_and_keeps_the_old_ones_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let vhost = write_cert(dir.path(), "a", &["a.test"]);
    let store = store(std::slice::from_ref(&vhost));
    let before = store.lookup(Some("a.test")).unwrap().end_point_hash.clone();
    write_cert(dir.path(), "a", &["a.test", "upload.a.test"]);
    store.reload().unwrap();
    let after = store.lookup(Some("a.test")).unwrap();
    assert_ne!(before, after.end_point_hash);
    assert!(after.info.covers("upload.a.test"));

    std::fs::write(&vhost.key, "not a key").unwrap();
    let err = store.reload().unwrap_err();
    assert!(matches!(err, CoreError::ReadKey { .. }), "{err}");
    assert!(
        !err.to_string().contains("not a key"),
        "errors never echo key files"
    );
    assert_eq!(
        store.lookup(Some("a.test")).unwrap().end_point_hash,
        after.end_point_hash
    );
}

#[test]
fn mismatched_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_cert(dir.path(), "a", &["a.test"]);
    let b = write_cert(dir.path(), "b", &["b.test"]);
    let crossed = VirtualHost { key: b.key, ..a };
    let provider = Arc::new(provider(&Tls::default()).unwrap());
    let err = CertStore::load(&[crossed], provider).unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
}

#[test]
fn policy_restricts_suites_and_groups() {
    let policy = Tls {
        cipher_suites: vec![
            "TLS13_AES_256_GCM_SHA384".into(),
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384".into(),
        ],
        key_exchange_groups: vec!["X25519".into()],
        ..Tls::default()
    };
    let p = provider(&policy).unwrap();
    assert_eq!(p.cipher_suites.len(), 2);
    assert_eq!(p.kx_groups.len(), 1);
    let bad = Tls {
        cipher_suites: vec!["ECDHE-RSA-AES256-SHA".into()],
        ..Tls::default()
    };
    assert!(
        provider(&bad)
            .unwrap_err()
            .to_string()
            .contains("ECDHE-RSA-AES256-SHA")
    );
}

async fn handshake(
    store: Arc<CertStore>,
    policy: &Tls,
    root: &Path,
    sni: &str,
) -> (
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<rustls::ProtocolVersion>,
) {
    let provider = Arc::new(provider(policy).unwrap());
    let server = server_config(policy, provider.clone(), store, &[ALPN_XMPP_CLIENT]).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(certs::load_chain(root).unwrap().remove(0))
        .unwrap();
    let mut client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![ALPN_XMPP_CLIENT.to_vec()];
    let (c, s) = tokio::io::duplex(64 * 1024);
    let acceptor = tokio_rustls::TlsAcceptor::from(server);
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    let server_task = tokio::spawn(async move {
        let mut tls = acceptor.accept(s).await.unwrap();
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await.unwrap();
        let (_, conn) = tls.get_ref();
        (exporter_binding(conn), conn.protocol_version())
    });
    let mut tls = connector.connect(name, c).await.unwrap();
    tls.write_all(b"ping").await.unwrap();
    tls.flush().await.unwrap();
    let mut client_exporter = vec![0u8; 32];
    let (_, conn) = tls.get_ref();
    assert_eq!(conn.alpn_protocol(), Some(ALPN_XMPP_CLIENT));
    let client_exporter = conn
        .export_keying_material(&mut client_exporter, b"EXPORTER-Channel-Binding", None)
        .ok()
        .map(|b| b.to_vec());
    let (server_exporter, version) = server_task.await.unwrap();
    (server_exporter, client_exporter, version)
}

#[tokio::test]
async fn handshake_serves_sni_certificate_and_agrees_on_exporter() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_cert(dir.path(), "a", &["a.test"]);
    let b = write_cert(dir.path(), "b", &["b.test"]);
    let root = b.certificate.clone();
    let store = store(&[a, b]);
    let (server, client, version) = handshake(store, &Tls::default(), &root, "b.test").await;
    assert_eq!(version, Some(rustls::ProtocolVersion::TLSv1_3));
    assert!(server.is_some());
    assert_eq!(server, client);
}

#[tokio::test]
async fn tls12_offers_no_exporter_binding() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_cert(dir.path(), "a", &["a.test"]);
    let root = a.certificate.clone();
    let store = store(&[a]);
    let policy = Tls {
        cipher_suites: vec![
            "TLS13_AES_256_GCM_SHA384".into(),
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384".into(),
        ],
        ..Tls::default()
    };
    // Force 1.2 from the client side by giving it only 1.2.
    let provider = Arc::new(provider(&policy).unwrap());
    let server = server_config(&policy, provider.clone(), store, &[]).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(certs::load_chain(&root).unwrap().remove(0))
        .unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let (c, s) = tokio::io::duplex(64 * 1024);
    let server_task = tokio::spawn(async move {
        let mut tls = tokio_rustls::TlsAcceptor::from(server)
            .accept(s)
            .await
            .unwrap();
        let mut buf = [0u8; 1];
        tls.read_exact(&mut buf).await.unwrap();
        let (_, conn) = tls.get_ref();
        (exporter_binding(conn), conn.protocol_version())
    });
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(ServerName::try_from("a.test").unwrap(), c)
        .await
        .unwrap();
    tls.write_all(b"x").await.unwrap();
    tls.flush().await.unwrap();
    let (exporter, version) = server_task.await.unwrap();
    assert_eq!(version, Some(rustls::ProtocolVersion::TLSv1_2));
    assert_eq!(exporter, None);
}

#[test]
fn end_point_hash_of_an_ecdsa_p256_certificate_is_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_cert(dir.path(), "a", &["a.test"]);
    let der = certs::load_chain(&a.certificate).unwrap().remove(0);
    assert_eq!(end_point_hash(&der), sha2::Sha256::digest(&der).to_vec());
}
