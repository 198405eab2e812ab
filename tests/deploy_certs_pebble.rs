//! `deploy certs` against a real ACME server (Debian's pebble): issue, keep, force, reuse the
//! account, renew a short-lived certificate, TLS-ALPN-01, and the failure paths (a failing
//! challenge, an unreachable server, a refused order) that must leave everything in place.

mod deploy_certs_support;

use deploy::certs::{Action, Options, Reason};
use deploy_certs_support::{Pebble, PebbleConfig, Spec, serial, stderr, stdout};
use std::os::unix::fs::PermissionsExt as _;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn issues_once_keeps_it_then_forces_a_renewal_with_the_same_account() {
    let pebble = Pebble::start(PebbleConfig::default());
    let spec = Spec::for_pebble(&pebble, |_| {});

    let first = spec.deploy(&["certs", "renew"]);
    assert!(first.status.success());
    assert!(stdout(&first).contains("certificate issued (no certificate yet)"));
    assert!(
        stdout(&first).contains("names:     conference.xmpp.test, upload.xmpp.test, xmpp.test")
    );
    assert!(stdout(&first).contains("issuer:    CN=Pebble Intermediate CA"));
    assert!(stderr(&first).contains("created an ACME account"));
    assert!(stderr(&first).contains("reload xmppd: send SIGHUP"));
    let state = spec.state();
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&state.join("tls/privkey.pem")), 0o600);
    assert_eq!(mode(&state.join("acme/account.json")), 0o600);
    assert_eq!(mode(&state.join("tls/fullchain.pem")), 0o644);
    // Nothing of the key reaches the output.
    let key = String::from_utf8(spec.read("tls/privkey.pem")).expect("pem");
    let secret_line = key.lines().nth(1).expect("key body");
    assert!(!stdout(&first).contains(secret_line) && !stderr(&first).contains(secret_line));
    // The HTTP-01 answers are gone once the order is done.
    let challenges = state.join("webroot/.well-known/acme-challenge");
    assert_eq!(std::fs::read_dir(challenges).expect("dir").count(), 0);
    let account = spec.read("acme/account.json");
    let chain = spec.read("tls/fullchain.pem");

    // Second run: nothing to do, no new order, nothing rewritten.
    let second = spec.deploy(&["certs", "renew"]);
    assert!(second.status.success());
    assert!(stdout(&second).contains("certificate kept"));
    assert!(!stderr(&second).contains("reload"));
    assert_eq!(spec.read("tls/fullchain.pem"), chain);

    // `deploy certs` shows what is in place.
    let show = spec.deploy(&["certs"]);
    assert!(show.status.success());
    assert_eq!(serial(&show), serial(&first));
    assert!(stdout(&show).contains("source:    acme (https://127.0.0.1:"));
    assert!(stdout(&show).contains("days left: "));

    // --force renews with the account made by the first run.
    let forced = spec.deploy(&["certs", "renew", "--force"]);
    assert!(forced.status.success());
    assert!(stdout(&forced).contains("certificate issued (--force)"));
    assert!(!stderr(&forced).contains("created an ACME account"));
    assert_ne!(serial(&forced), serial(&first));
    assert_eq!(spec.read("acme/account.json"), account);
}

#[test]
fn a_short_lived_certificate_is_renewed_in_its_last_third() {
    // One hour of validity: renewal is due after 40 minutes.
    let pebble = Pebble::start(PebbleConfig {
        validity: Some(3600),
        ..PebbleConfig::default()
    });
    let spec = Spec::for_pebble(&pebble, |_| {});
    let model = spec.model();
    let options = |now: Option<i64>| Options {
        now,
        ..Options::default()
    };
    let issued = deploy::certs::renew(&model, &options(None)).expect("issue");
    assert_eq!(
        issued.action,
        Action::Issued {
            reason: Reason::Missing
        }
    );
    // Pebble ends the validity a second early.
    let lifetime = issued.info.not_after - issued.info.not_before;
    assert!((3599..=3600).contains(&lifetime), "{lifetime}");
    let t0 = issued.info.not_before;
    let kept = deploy::certs::renew(&model, &options(Some(t0 + 2399))).expect("keep");
    assert!(matches!(kept.action, Action::Kept { .. }), "{kept:?}");
    assert_eq!(kept.info.serial, issued.info.serial);
    let renewed = deploy::certs::renew(&model, &options(Some(t0 + 2401))).expect("renew");
    assert!(
        matches!(
            renewed.action,
            Action::Issued {
                reason: Reason::Expiring { .. }
            }
        ),
        "{renewed:?}"
    );
    assert_ne!(renewed.info.serial, issued.info.serial);
}

#[test]
fn tls_alpn_01_issues_too() {
    let pebble = Pebble::start(PebbleConfig::default());
    let spec = Spec::for_pebble(&pebble, |s| {
        s["tls"]["certificates"]["acme"]["challenge"] = "tls-alpn-01".into();
    });
    let out = spec.deploy(&["certs", "renew"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("certificate issued"));
}

#[test]
fn a_failing_challenge_or_an_unreachable_server_leaves_the_certificate_in_place() {
    let mut pebble = Pebble::start(PebbleConfig::default());
    let spec = Spec::for_pebble(&pebble, |_| {});
    assert!(spec.deploy(&["certs", "renew"]).status.success());
    let chain = spec.read("tls/fullchain.pem");
    let key = spec.read("tls/privkey.pem");

    // Answer HTTP-01 on a port pebble does not look at: the challenge fails.
    let wrong_port = Spec::for_pebble(&pebble, |s| {
        s["ports"]["http"] = deploy_certs_support::free_port().into();
    });
    // The global --state-dir points the second spec at the first one's state.
    let state = spec.state();
    let state = state.to_str().expect("utf-8 path");
    let failed = wrong_port.deploy(&["--state-dir", state, "certs", "renew", "--force"]);
    assert!(!failed.status.success());
    assert!(
        stderr(&failed).contains("the http-01 challenge for"),
        "{}",
        stderr(&failed)
    );
    assert!(stderr(&failed).contains("failed"));
    assert_eq!(spec.read("tls/fullchain.pem"), chain);
    assert_eq!(spec.read("tls/privkey.pem"), key);
    assert!(!wrong_port.state().exists());

    pebble.stop();
    let unreachable = spec.deploy(&["certs", "renew", "--force"]);
    assert!(!unreachable.status.success());
    assert!(
        stderr(&unreachable).contains("ACME: reaching the server at https://127.0.0.1:"),
        "{}",
        stderr(&unreachable)
    );
    assert_eq!(spec.read("tls/fullchain.pem"), chain);
    assert_eq!(spec.read("tls/privkey.pem"), key);
    // The certificate is still what `deploy certs` shows.
    assert!(spec.deploy(&["certs"]).status.success());
}

#[test]
fn a_refused_order_is_reported_and_writes_no_certificate() {
    let pebble = Pebble::start(PebbleConfig {
        blocklist: vec!["upload.xmpp.test".to_owned()],
        ..PebbleConfig::default()
    });
    let spec = Spec::for_pebble(&pebble, |_| {});
    let out = spec.deploy(&["certs", "renew"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("ACME: the server refused the order for xmpp.test, conference.xmpp.test, upload.xmpp.test"),
        "{}",
        stderr(&out)
    );
    assert!(!spec.state().join("tls/fullchain.pem").exists());
    assert!(!spec.state().join("tls/privkey.pem").exists());
}

#[test]
fn a_renewal_while_nginx_holds_the_http_port_goes_through_its_webroot() {
    let pebble = Pebble::start(PebbleConfig::default());
    let spec = Spec::for_pebble(&pebble, |_| {});
    // First issuance: nginx cannot start without a certificate, so deploy answers itself.
    let first = spec.deploy(&["certs", "renew"]);
    assert!(first.status.success());

    // The nginx config deploy renders, reading tls/ and the ACME webroot from the state dir.
    let root = tempfile::tempdir().expect("tempdir");
    let files = deploy::render::render(
        &spec.model(),
        &deploy::render::Options {
            root: root.path().to_path_buf(),
        },
    )
    .expect("render");
    deploy::render::write(&files, root.path()).expect("write");
    std::os::unix::fs::symlink(spec.state().join("tls"), root.path().join("tls")).expect("tls");
    std::os::unix::fs::symlink(spec.state().join("webroot"), root.path().join("acme"))
        .expect("webroot");
    let mut child = std::process::Command::new("nginx")
        .args(["-e", "stderr", "-c"])
        .arg(root.path().join("nginx/nginx.conf"))
        .arg("-p")
        .arg(root.path())
        // One process as the test's user: the tempdirs are 0700, nobody could not read them.
        .args(["-g", "daemon off; master_process off;"])
        .spawn()
        .expect("nginx (apt-get install nginx-light)");
    deploy_certs_support::wait_for_port(pebble.http_port, &mut child);
    let _nginx = deploy_certs_support::Guard(child);

    let renewed = spec.deploy(&["certs", "renew", "--force"]);
    assert!(renewed.status.success());
    assert!(
        stderr(&renewed).contains("HTTP-01 answered through the webroot (nginx)"),
        "{}",
        stderr(&renewed)
    );
    assert_ne!(serial(&renewed), serial(&first));
}
