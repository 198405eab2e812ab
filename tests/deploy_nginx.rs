//! The rendered nginx config passes Debian's `nginx -t` with throwaway certificates.
//! nginx must be installed (scripts/test.sh installs nginx-light): this test fails without it.

use deploy::render::{Options, paths, render, write};
use deploy::validate::validate_file;
use std::path::{Path, PathBuf};
use std::process::Command;

fn nginx_binary() -> PathBuf {
    for candidate in ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!("nginx is not installed: apt-get install nginx-light (scripts/test.sh does)");
}

fn throwaway_certificate(root: &Path, domain: &str) {
    let cert = root.join(paths::CERTIFICATE);
    let key = root.join(paths::PRIVATE_KEY);
    std::fs::create_dir_all(cert.parent().expect("parent")).expect("tls dir");
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .arg("-subj")
        .arg(format!("/CN={domain}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

fn nginx_t(example: &str) {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{example}.yaml"));
    let model = validate_file(&spec)
        .expect("readable")
        .model
        .expect("valid example");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let files = render(
        &model,
        &Options {
            root: root.to_path_buf(),
        },
    )
    .expect("renders");
    write(&files, root).expect("writes");
    throwaway_certificate(root, model.domain.as_str());
    let out = Command::new(nginx_binary())
        .arg("-t")
        .args(["-e", "stderr"])
        .arg("-c")
        .arg(root.join(paths::NGINX_CONFIG))
        .arg("-p")
        .arg(root)
        .output()
        .expect("run nginx -t");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "nginx -t failed for {example}:\n{stderr}"
    );
    assert!(stderr.contains("test is successful"), "{stderr}");
}

#[test]
fn quickstart_nginx_config_passes_nginx_t() {
    nginx_t("quickstart");
}

#[test]
fn seed_nginx_config_passes_nginx_t() {
    nginx_t("seed");
}

#[test]
fn postgres_nginx_config_passes_nginx_t() {
    nginx_t("postgres");
}
