//! Golden files pin the rendered output of every example (`UPDATE_GOLDEN=1` rewrites them).
//! Rendering twice gives the same bytes.

use deploy::render::{Files, Options, render};
use deploy::validate::validate_file;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rendered(example: &str) -> Files {
    let path = manifest().join("examples").join(format!("{example}.yaml"));
    let v = validate_file(&path).expect("readable");
    let model = v.model.expect("example is valid");
    let options = Options {
        root: PathBuf::from("/deploy"),
    };
    let first = render(&model, &options).expect("renders");
    assert_eq!(
        first,
        render(&model, &options).expect("renders"),
        "not deterministic"
    );
    first
}

fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out
}

fn golden(example: &str) {
    let files = rendered(example);
    let dir = manifest().join("tests/golden").join(example);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        deploy::render::write(&files, &dir).expect("write golden");
        return;
    }
    let want: BTreeSet<String> = files.keys().cloned().collect();
    assert_eq!(
        files_under(&dir),
        want,
        "files differ from tests/golden/{example}: run with UPDATE_GOLDEN=1 after checking"
    );
    for (rel, content) in &files {
        let on_disk = std::fs::read_to_string(dir.join(rel)).unwrap_or_default();
        assert!(
            &on_disk == content,
            "tests/golden/{example}/{rel} differs from the rendered file:\n{content}"
        );
    }
}

#[test]
fn quickstart_renders_as_pinned() {
    golden("quickstart");
}

#[test]
fn seed_renders_as_pinned() {
    golden("seed");
}

#[test]
fn postgres_renders_as_pinned() {
    golden("postgres");
}

#[test]
fn rendered_xmppd_config_is_accepted_by_xmppd_config() {
    for example in ["quickstart", "seed", "postgres"] {
        let files = rendered(example);
        let text = &files["xmppd/xmppd.toml"];
        let config = xmppd_config::Config::from_toml(text).expect("parses");
        assert!(
            config.problems().is_empty(),
            "{example}: {:?}",
            config.problems()
        );
    }
}

#[test]
fn seed_nginx_has_the_security_headers_and_endpoints() {
    let files = rendered("seed");
    let nginx = &files["nginx/nginx.conf"];
    for needle in [
        "add_header Strict-Transport-Security \"max-age=31536000; includeSubDomains; preload\" always;",
        "add_header X-Content-Type-Options \"nosniff\" always;",
        "add_header Referrer-Policy",
        "add_header Content-Security-Policy",
        "location = /http-bind",
        "location = /xmpp-websocket",
        "proxy_set_header Upgrade $http_upgrade;",
        "location = /.well-known/host-meta.json",
        "add_header Access-Control-Allow-Origin \"*\" always;",
        "client_max_body_size 101m;",
        "location /.well-known/acme-challenge/",
        "return 301 https://$host$request_uri;",
        "ssl_ecdh_curve secp384r1:secp521r1;",
    ] {
        assert!(nginx.contains(needle), "missing: {needle}");
    }
    assert!(
        !nginx.contains("$remote_addr ["),
        "client IPs must not be logged by default"
    );
    assert!(
        !nginx.contains("GCM-SHA512"),
        "names OpenSSL does not know are left out"
    );
    let zone = &files["dns/zone.txt"];
    for srv in [
        "_xmpp-client._tcp.",
        "_xmpps-client._tcp.",
        "_xmpp-server._tcp.",
        "_xmpps-server._tcp.",
    ] {
        assert!(
            zone.contains(&format!("{srv}seed.example.org. 3600 IN SRV 5 0 ")),
            "{srv}"
        );
    }
    assert!(zone.contains("upload.seed.example.org. 3600 IN CNAME seed.example.org."));
}

#[test]
fn ffdhe_groups_are_the_rfc_7919_ones() {
    // OpenSSL recognises the RFC 7919 primes by value and names them.
    for group in ["ffdhe2048", "ffdhe3072", "ffdhe4096"] {
        let path = manifest().join("src/render").join(format!("{group}.pem"));
        let out = std::process::Command::new("openssl")
            .args(["dhparam", "-noout", "-text", "-in"])
            .arg(&path)
            .output()
            .expect("openssl is installed (scripts/test.sh installs it)");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("GROUP: {group}")), "{group}: {text}");
    }
}

#[test]
fn a_generated_dh_group_is_referenced_but_not_rendered() {
    let spec = "\
name: dh
domain: dh.example.org
tls:
  certificates: {source: local-ca}
  dhparam: {generate: {bits: 4096}}
";
    let v = deploy::validate_text(spec, Path::new(".")).expect("validates");
    let model = v.model.expect("valid");
    let files = render(
        &model,
        &Options {
            root: PathBuf::from("/deploy"),
        },
    )
    .expect("renders");
    assert!(!files.contains_key("nginx/dhparam.pem"));
    assert!(files["nginx/nginx.conf"].contains("ssl_dhparam /deploy/nginx/dhparam.pem;"));
}

#[test]
fn relative_paths_resolve_against_the_spec_folder() {
    let spec = "\
name: files
domain: files.example.org
tls:
  certificates:
    source: files
    files: {certificate: certs/fullchain.pem, key: /abs/privkey.pem}
runtime:
  state_dir: state
";
    let base = Path::new("some/folder");
    let model = deploy::validate_text(spec, base)
        .expect("validates")
        .model
        .expect("valid");
    match &model.tls.certificates {
        deploy::model::CertSource::Files { certificate, key } => {
            assert_eq!(certificate, &base.join("certs/fullchain.pem"));
            assert_eq!(key, Path::new("/abs/privkey.pem"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(model.runtime.state_dir, base.join("state"));
}

#[test]
fn client_ips_reach_the_nginx_log_only_when_allowed() {
    let spec = "\
name: ips
domain: ips.example.org
tls: {certificates: {source: local-ca}}
logging: {client_ips: true}
";
    let model = deploy::validate_text(spec, Path::new("."))
        .expect("validates")
        .model
        .expect("valid");
    let files = render(
        &model,
        &Options {
            root: PathBuf::from("/deploy"),
        },
    )
    .expect("renders");
    assert!(files["nginx/nginx.conf"].contains("log_format deploy '$remote_addr "));
    assert!(files["xmppd/xmppd.toml"].contains("log_client_ips = true"));
}

#[test]
fn cli_render_writes_the_files_and_refuses_an_invalid_spec() {
    let out = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_deploy"))
        .arg("render")
        .arg(manifest().join("examples/quickstart.yaml"))
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("run deploy render");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert_eq!(
        files_under(out.path()),
        rendered("quickstart").keys().cloned().collect()
    );

    let bad = out.path().join("bad.yaml");
    std::fs::write(&bad, "name: x\n").expect("write");
    let empty = out.path().join("empty");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_deploy"))
        .arg("render")
        .arg(&bad)
        .arg("--out")
        .arg(&empty)
        .output()
        .expect("run deploy render");
    assert_eq!(status.status.code(), Some(1));
    assert!(!empty.exists(), "nothing is written for an invalid spec");
}
