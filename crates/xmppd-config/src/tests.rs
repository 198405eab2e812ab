use super::*;

const MINIMAL: &str = r#"
data_dir = "data"
[[vhost]]
domain = "example.test"
certificate = "certs/fullchain.pem"
key = "certs/privkey.pem"
[listeners]
c2s_starttls = ["127.0.0.1:5222"]
"#;

#[test]
fn minimal_config_gets_secure_defaults() {
    let config = Config::from_toml(MINIMAL).unwrap();
    assert!(config.tls.c2s_require_encryption);
    assert!(config.tls.s2s_require_valid_certificates);
    assert!(!config.auth.allow_plain);
    assert!(!config.auth.mechanisms.contains(&SaslMechanism::Plain));
    assert!(!config.logging.log_client_ips);
    assert_eq!(config.storage, Storage::Sqlite { path: None });
    assert!(config.problems().is_empty(), "{:?}", config.problems());
}

#[test]
fn worker_threads_default_to_the_runtime_and_can_be_set() {
    assert_eq!(Config::from_toml(MINIMAL).unwrap().worker_threads, None);
    let text = MINIMAL.replacen("data_dir", "worker_threads = 1\ndata_dir", 1);
    let config = Config::from_toml(&text).unwrap();
    assert_eq!(config.worker_threads, Some(1));
    assert!(config.problems().is_empty(), "{:?}", config.problems());
}

#[test]
fn round_trips_through_toml() {
    let config = Config::from_toml(MINIMAL).unwrap();
    let again = Config::from_toml(&config.to_toml().unwrap()).unwrap();
    assert_eq!(config, again);
}

#[test]
fn unknown_keys_are_refused_with_their_name() {
    let err = Config::from_toml(&format!("{MINIMAL}\nbogus = 1\n")).unwrap_err();
    assert!(err.to_string().contains("bogus"), "{err}");
}

#[test]
fn digest_md5_is_not_a_mechanism() {
    let text = format!("{MINIMAL}\n[auth]\nmechanisms = [\"DIGEST-MD5\"]\n");
    let err = Config::from_toml(&text).unwrap_err();
    assert!(err.to_string().contains("DIGEST-MD5"), "{err}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"
admins = ["root@elsewhere.test", "nobody"]
data_dir = "data"
worker_threads = 0
[[vhost]]
domain = "bad_domain"
certificate = "c.pem"
key = "k.pem"
[listeners]
c2s_starttls = ["127.0.0.1:5222"]
c2s_direct_tls = ["127.0.0.1:5222"]
[auth]
mechanisms = ["PLAIN"]
scram_iterations = 100
[tls]
cipher_suites = ["ECDHE-RSA-AES256-SHA"]
"#;
    let config = Config::from_toml(text).unwrap();
    let problems = config.problems();
    let expect = [
        "vhost[0].domain",
        "admins[0]",
        "admins[1]",
        "listeners.c2s_direct_tls: 127.0.0.1:5222 is already used by listeners.c2s_starttls",
        "auth.mechanisms: PLAIN is listed",
        "auth.scram_iterations",
        "tls.cipher_suites[0]: unknown suite",
        "worker_threads: 0 is out of range",
    ];
    for needle in expect {
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "missing {needle:?} in {problems:#?}"
        );
    }
    assert!(matches!(config.check(), Err(ConfigError::Invalid { .. })));
}

#[test]
fn load_resolves_relative_paths_against_the_config_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("xmppd.toml");
    std::fs::write(&path, MINIMAL).unwrap();
    let config = Config::load(&path).unwrap();
    assert_eq!(config.data_dir, dir.path().join("data"));
    assert_eq!(
        config.vhosts[0].certificate,
        dir.path().join("certs/fullchain.pem")
    );
}

#[test]
fn the_example_config_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/xmppd.toml");
    let config = Config::load(&path).unwrap();
    assert_eq!(config.vhosts[0].domain, "example.test");
    assert_eq!(config.admins, ["alice@example.test"]);
}

#[test]
fn checked_in_schema_is_fresh() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/xmppd.schema.json");
    let fresh = Config::json_schema();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "schema/xmppd.schema.json is stale: run `UPDATE_GOLDEN=1 cargo test -p xmppd-config`"
    );
}
