use super::*;
use std::path::Path;

fn config_with_cert(dir: &Path, names: &[&str], days: i64) -> Config {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    let start = time_from(now() - 86_400);
    params.not_before = start;
    params.not_after = time_from(now() + days * 86_400);
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    let text = r#"
data_dir = "data"
[[vhost]]
domain = "example.test"
certificate = "cert.pem"
key = "key.pem"
[listeners]
c2s_starttls = ["127.0.0.1:0"]
[muc]
domain = "conference.example.test"
"#;
    let path = dir.join("xmppd.toml");
    std::fs::write(&path, text).unwrap();
    Config::load(&path).unwrap()
}

fn time_from(secs: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

#[test]
fn good_certificate_has_no_findings() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_cert(dir.path(), &["example.test", "conference.example.test"], 90);
    assert_eq!(findings(&config, now()), []);
}

#[test]
fn missing_subdomain_and_near_expiry_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_cert(dir.path(), &["example.test"], 3);
    let found = findings(&config, now());
    assert!(found.iter().any(|f| matches!(f, Finding::Error(m) if m.contains("does not cover conference.example.test"))), "{found:?}");
    assert!(
        found
            .iter()
            .any(|f| matches!(f, Finding::Warning(m) if m.contains("expires in"))),
        "{found:?}"
    );
}

#[test]
fn expired_certificate_and_busy_port_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_with_cert(dir.path(), &["example.test", "conference.example.test"], 30);
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    config.listeners.c2s_starttls = vec![busy.local_addr().unwrap()];
    let found = findings(&config, now() + 60 * 86_400);
    assert!(
        found
            .iter()
            .any(|f| matches!(f, Finding::Error(m) if m.contains("expired"))),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| matches!(f, Finding::Error(m) if m.contains("cannot listen"))),
        "{found:?}"
    );
}

#[test]
fn unreadable_s2s_ca_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_with_cert(dir.path(), &["example.test", "conference.example.test"], 90);
    config.s2s.ca_file = Some(dir.path().join("missing-ca.pem"));
    let found = findings(&config, now());
    assert!(
        found
            .iter()
            .any(|f| matches!(f, Finding::Error(m) if m.starts_with("s2s.ca_file:") && m.contains("missing-ca.pem"))),
        "{found:?}"
    );
}
