//! `deploy certs` without an ACME server: the local CA (created once, leaves for every name),
//! user-provided files (checked: names, key, expiry), and DH groups checked by OpenSSL.

use deploy::certs::{Action, CertsError, Options, Reason};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use std::path::Path;
use std::process::Command;

const LOCAL: &str = "\
name: dev
domain: xmpp.localhost
admins: [admin@xmpp.localhost]
tls:
  certificates:
    source: local-ca
services:
  muc: {}
runtime:
  state_dir: state
";

fn model(dir: &Path, yaml: &str) -> deploy::Model {
    let path = dir.join("spec.yaml");
    std::fs::write(&path, yaml).expect("spec");
    deploy::validate::validate_file(&path)
        .expect("read")
        .model
        .expect("valid")
}

fn openssl_verify(ca: &Path, chain: &Path) -> bool {
    let out = Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(ca)
        .arg(chain)
        .output()
        .expect("openssl");
    out.status.success()
}

#[test]
fn the_local_ca_is_made_once_and_signs_every_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = model(dir.path(), LOCAL);
    let first = deploy::certs::renew(&m, &Options::default()).expect("issue");
    assert!(first.changed());
    assert!(
        first
            .notes
            .iter()
            .any(|n| n.contains("update-ca-certificates"))
    );
    let names: Vec<&str> = first.info.names.iter().map(String::as_str).collect();
    assert_eq!(names, ["conference.xmpp.localhost", "xmpp.localhost"]);
    assert_eq!(first.info.issuer, "O=xmppd deploy, CN=dev development CA");
    let state = dir.path().join("state");
    assert!(openssl_verify(
        &state.join("ca/ca.pem"),
        &state.join("tls/fullchain.pem")
    ));
    let ca = std::fs::read(state.join("ca/ca.pem")).expect("ca");

    let kept = deploy::certs::renew(&m, &Options::default()).expect("keep");
    // 90 days, less the seconds since issuance.
    assert!(
        matches!(kept.action, Action::Kept { days_left: 89 | 90 }),
        "{:?}",
        kept.action
    );

    // A new subdomain in the spec: the certificate no longer covers it and is reissued by the
    // same CA.
    let more = model(
        dir.path(),
        &LOCAL.replace(
            "  muc: {}\n",
            "  muc: {}\n  upload: {max_file_size: 1 MiB}\n",
        ),
    );
    let grown = deploy::certs::renew(&more, &Options::default()).expect("reissue");
    assert_eq!(
        grown.action,
        Action::Issued {
            reason: Reason::NamesMissing(vec!["upload.xmpp.localhost".to_owned()])
        }
    );
    assert!(grown.notes.is_empty(), "no new CA: {:?}", grown.notes);
    assert_eq!(std::fs::read(state.join("ca/ca.pem")).expect("ca"), ca);
    assert!(openssl_verify(
        &state.join("ca/ca.pem"),
        &state.join("tls/fullchain.pem")
    ));
}

#[test]
fn deploy_certs_shows_names_issuer_expiry_and_the_ca_to_trust() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = model(dir.path(), LOCAL);
    let mut out = Vec::new();
    let found = deploy::certs::command::show(&m, None, &mut out).expect("show");
    assert!(!found);
    assert!(String::from_utf8_lossy(&out).contains("no certificate at"));
    deploy::certs::renew(&m, &Options::default()).expect("issue");
    let mut out = Vec::new();
    assert!(deploy::certs::command::show(&m, None, &mut out).expect("show"));
    let text = String::from_utf8(out).expect("utf-8");
    let ca = dir.path().join("state/ca/ca.pem");
    assert!(
        text.contains(&format!("trust CA:  {}", ca.display())),
        "{text}"
    );
    assert!(text.contains("names:     conference.xmpp.localhost, xmpp.localhost"));
    assert!(text.contains("issuer:    O=xmppd deploy, CN=dev development CA"));
    assert!(text.contains("not after: 20"), "{text}");
    assert!(text.contains("days left: 89") || text.contains("days left: 90"));
}

#[test]
fn the_state_dir_flag_overrides_the_spec() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = model(dir.path(), LOCAL);
    let elsewhere = dir.path().join("elsewhere");
    let options = Options {
        state_dir: Some(elsewhere.clone()),
        ..Options::default()
    };
    deploy::certs::renew(&m, &options).expect("issue");
    assert!(elsewhere.join("tls/fullchain.pem").exists());
    assert!(!dir.path().join("state").exists());
}

/// A CA and a leaf for `names`, valid from `from` to `to` days around now.
fn pair(dir: &Path, names: &[&str], from: i64, to: i64) -> (String, String) {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let issuer = Issuer::from_params(&ca, &ca_key);
    let key = KeyPair::generate().expect("key");
    let mut leaf =
        CertificateParams::new(names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
            .expect("params");
    let now = time::OffsetDateTime::now_utc();
    leaf.not_before = now + time::Duration::days(from);
    leaf.not_after = now + time::Duration::days(to);
    let cert = leaf.signed_by(&key, &issuer).expect("cert");
    std::fs::write(dir.join("cert.pem"), cert.pem()).expect("write");
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).expect("write");
    (cert.pem(), key.serialize_pem())
}

const FILES: &str = "\
name: byo
domain: xmpp.example.org
admins: [admin@xmpp.example.org]
tls:
  certificates:
    source: files
    files: {certificate: cert.pem, key: key.pem}
services:
  muc: {}
runtime:
  state_dir: state
";

fn files_error(dir: &Path) -> String {
    let m = model(dir, FILES);
    let err: CertsError = deploy::certs::renew(&m, &Options::default()).expect_err("refused");
    err.to_string()
}

#[test]
fn files_are_checked_then_installed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let names = ["xmpp.example.org", "conference.xmpp.example.org"];
    let (cert, key) = pair(dir.path(), &names, -1, 60);
    let m = model(dir.path(), FILES);
    let first = deploy::certs::renew(&m, &Options::default()).expect("install");
    assert!(first.changed());
    let state = dir.path().join("state");
    assert_eq!(
        std::fs::read_to_string(state.join("tls/fullchain.pem")).expect("c"),
        cert
    );
    assert_eq!(
        std::fs::read_to_string(state.join("tls/privkey.pem")).expect("k"),
        key
    );
    let again = deploy::certs::renew(&m, &Options::default()).expect("keep");
    assert!(matches!(again.action, Action::Kept { .. }));

    // Each bad pair is refused with its reason, and the installed one stays.
    pair(dir.path(), &["xmpp.example.org"], -1, 60);
    let e = files_error(dir.path());
    assert!(
        e.contains("does not cover conference.xmpp.example.org"),
        "{e}"
    );
    pair(dir.path(), &names, -10, -1);
    assert!(files_error(dir.path()).contains("has expired"));
    pair(dir.path(), &names, -1, 60);
    let other = KeyPair::generate().expect("key");
    std::fs::write(dir.path().join("key.pem"), other.serialize_pem()).expect("write");
    let e = files_error(dir.path());
    assert!(e.contains("is not the key of"), "{e}");
    assert!(!e.contains("PRIVATE KEY"), "{e}");
    assert_eq!(
        std::fs::read_to_string(state.join("tls/fullchain.pem")).expect("c"),
        cert
    );
    assert_eq!(
        std::fs::read_to_string(state.join("tls/privkey.pem")).expect("k"),
        key
    );
}

#[test]
fn a_generated_dh_group_passes_openssl_and_is_cached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("dh.pem");
    let made = Command::new(env!("CARGO_BIN_EXE_deploy"))
        .args(["dh", "generate", "--bits", "1024", "--out"])
        .arg(&out)
        .output()
        .expect("deploy dh generate");
    assert!(made.status.success(), "{made:?}");
    let check = Command::new("openssl")
        .args(["dhparam", "-check", "-noout", "-in"])
        .arg(&out)
        .output()
        .expect("openssl");
    let said = String::from_utf8_lossy(&check.stdout).into_owned()
        + &String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "{said}");
    assert!(said.contains("DH parameters appear to be ok"), "{said}");
    let text = Command::new("openssl")
        .args(["dhparam", "-text", "-noout", "-in"])
        .arg(&out)
        .output()
        .expect("openssl");
    assert!(String::from_utf8_lossy(&text.stdout).contains("(1024 bit)"));

    // The deployment's cache: generated once, then reused.
    let state = deploy::certs::StateDir::open(&dir.path().join("state")).expect("state");
    let dh = deploy::model::Dh::Generate { bits: 1024 };
    let (pem, generated) = deploy::dh::ensure(&state, dh, false).expect("generate");
    assert!(generated);
    let (again, generated) = deploy::dh::ensure(&state, dh, false).expect("cached");
    assert!(!generated);
    assert_eq!(pem, again);
    assert!(state.path("dh/dh-1024.pem").exists());
    let fixed = deploy::model::Dh::Ffdhe(deploy::spec::FfdheGroup::Ffdhe2048);
    let (ffdhe, generated) = deploy::dh::ensure(&state, fixed, false).expect("ffdhe");
    assert!(!generated && ffdhe.starts_with("-----BEGIN DH PARAMETERS-----"));
}
