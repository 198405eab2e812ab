//! Every example validates; a spec with many mistakes reports all of them, located, in one run;
//! the CLI's exit codes, JSON output and stdin.

use deploy::validate::{validate_file, validate_text};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    out
}

#[test]
fn every_example_is_valid() {
    let all = examples();
    assert!(
        all.len() >= 3,
        "expected quickstart, seed and postgres: {all:?}"
    );
    for path in all {
        let v = validate_file(&path).expect("readable");
        let errors: Vec<_> = v.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(v.is_valid(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn every_example_points_at_the_schema() {
    for path in examples() {
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schema/spec.schema.json\n"),
            "{}",
            path.display()
        );
    }
}

const BAD: &str = "\
name: Bad_Name
domain: xmpp.test
admins: [root@other.org]
ports:
  c2s: 5222
  s2s: 5222
  htps: 443
services:
  muc:
    subdomian: chat
  upload:
    max_file_size: 10 parsecs
tls:
  certificates:
    source: acme
    acme:
      emial: x@y.z
  profile: moderne
auth:
  mechanisms: [SCRAM-SHA-1, DIGEST-MD5]
storage:
  backend: postgres
  postgres:
    url: postgres://u:p@h/db
";

#[test]
fn a_spec_with_many_mistakes_reports_all_of_them_with_positions() {
    let v = validate_text(BAD, Path::new(".")).expect("validates");
    assert!(!v.is_valid());
    let got: Vec<String> = v
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}:{} {}",
                d.line.unwrap_or(0),
                d.column.unwrap_or(0),
                d.path
            )
        })
        .collect();
    let want = [
        "1:7 name",
        "3:10 admins[0]",
        "6:8 ports.s2s",
        "7:3 ports.htps",
        "10:5 services.muc.subdomian",
        "12:20 services.upload.max_file_size",
        "17:7 tls.certificates.acme.emial",
        "17:12 tls.certificates.acme",
        "18:12 tls.profile",
        "20:29 auth.mechanisms[1]",
        "24:5 storage.postgres.url",
    ];
    assert_eq!(got, want, "{:#?}", v.diagnostics);
    let hint = |path: &str| {
        v.diagnostics
            .iter()
            .find(|d| d.path == path)
            .and_then(|d| d.hint.clone())
            .unwrap_or_default()
    };
    assert_eq!(hint("ports.htps"), "did you mean `https`?");
    assert_eq!(hint("tls.certificates.acme.emial"), "did you mean `email`?");
    assert_eq!(hint("tls.profile"), "did you mean `modern`?");
    assert_eq!(hint("storage.postgres.url"), "did you mean `url_env`?");
}

#[test]
fn semantic_checks_name_their_paths() {
    let spec = "\
name: t
domain: example.org
tls:
  certificates:
    source: acme
    acme: {email: nobody}
  profile: custom
  ciphers: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
  dhparam: {generate: {bits: 1000}}
services:
  muc: {subdomain: Chat}
  upload: {subdomain: chat}
";
    let v = validate_text(spec, Path::new(".")).expect("validates");
    let paths: Vec<&str> = v
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.path.as_str())
        .collect();
    for want in [
        "tls.certificates.acme.email",
        "tls.ciphers[0]",
        "tls.dhparam.generate.bits",
        "services.muc.subdomain",
    ] {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
}

#[test]
fn yaml_syntax_errors_are_located() {
    let v = validate_text("name: [a\ndomain: b\n", Path::new(".")).expect("validates");
    assert_eq!(v.diagnostics.len(), 1);
    assert!(v.diagnostics[0].line.is_some());
}

fn deploy() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deploy"))
}

#[test]
fn cli_exit_codes_and_summary() {
    let ok = deploy()
        .args(["validate", "examples/quickstart.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run");
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stderr).contains("examples/quickstart.yaml: valid"));

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, BAD).expect("write");
    let out = deploy().arg("validate").arg(&bad).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "bad.yaml:7:3: error: ports.htps: unknown key `htps` (did you mean `https`?)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains('\x1b'), "no colour when not on a terminal");
}

#[test]
fn cli_reads_stdin_and_prints_json() {
    let mut child = deploy()
        .args(["validate", "--output", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(BAD.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON array");
    let first = &json[0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["path"], "name");
    assert_eq!(first["line"], 1);
    assert_eq!(first["column"], 7);
}

fn messages(spec: &str) -> Vec<String> {
    let v = validate_text(spec, Path::new(".")).expect("validates");
    v.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let hint = d
                .hint
                .as_deref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            format!("{}: {}{hint}", d.path, d.message)
        })
        .collect()
}

#[test]
fn type_and_range_errors_read_well() {
    let got = messages(
        "name: t\ndomain: t.test\ntls: {certificates: {source: local-ca}}\n\
         ports: {c2s: abc, https: 70000}\nservices: {upload: {max_file_size: 5}}\n",
    );
    assert_eq!(
        got,
        [
            "ports.c2s: expected null or integer, found a string",
            "ports.https: must be at most 65535",
            "services.upload.max_file_size: expected string, found a number",
        ]
    );
}

#[test]
fn errors_inside_alternatives_come_from_the_fitting_one() {
    let got = messages(
        "name: t\ndomain: t.test\ntls:\n  certificates: {source: local-ca}\n  \
         dhparam: {generate: {bitz: 4096}}\n",
    );
    assert_eq!(
        got,
        [
            "tls.dhparam.generate: missing required key `bits`",
            "tls.dhparam.generate.bitz: unknown key `bitz` (did you mean `bits`?)",
        ]
    );
    let got = messages(
        "name: t\ndomain: t.test\ntls:\n  certificates: {source: local-ca}\n  dhparam: ffdhe1024\n",
    );
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("tls.dhparam: `ffdhe1024` is not valid here"),
        "{got:?}"
    );
}
