//! Client stream negotiation as transcripts: bytes in, bytes and actions out, no IO
//! (RFC 6120 §6, RFC 5802, RFC 4616, XEP-0440).

mod support;

use std::sync::Arc;

use support::ScramClient;
use support::c2s::*;
use xmppd_stream::c2s::LookupFailed;
use xmppd_stream::sasl::credentials::{ScramCredentials, ScramHash};
use xmppd_stream::{Action, C2s, C2sConfig, DefinedCondition, Stage, Transport};

#[test]
fn scram_plus_with_tls_exporter() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    let client = ScramClient::new(
        ScramHash::Sha512,
        "p=tls-exporter,,",
        &[42; 32],
        "juliet",
        "pw",
    );
    let out = scram_login(&mut c2s, &client, "SCRAM-SHA-512-PLUS", "pw");
    assert!(out.starts_with("<success"), "{out}");
    assert_eq!(c2s.stage(), Stage::Authenticated);
}

#[test]
fn wrong_password_fails_then_too_many_failures_close() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    let client = ScramClient::new(ScramHash::Sha256, "n,,", b"", "juliet", "wrong");
    let out = scram_login(&mut c2s, &client, "SCRAM-SHA-256", "right");
    assert_eq!(out, format!("{}[]", failure("not-authorized")));
    assert_eq!(c2s.stage(), Stage::Secured);
    // Second failure reaches max_auth_failures = 2.
    let (sent, rest) = split(c2s.feed(auth("DIGEST-MD5", b"x").as_bytes()));
    assert_eq!(
        sent,
        format!(
            "{}{}",
            failure("invalid-mechanism"),
            stream_error("policy-violation")
        )
        .replace(
            "/></stream:error>",
            "/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams' \
                xml:lang='en'>too many failed authentication attempts</text></stream:error>"
        )
    );
    assert!(matches!(
        rest.as_slice(),
        [Action::Close(Some(e))] if e.condition == DefinedCondition::PolicyViolation
    ));
}

#[test]
fn unknown_user_is_looked_up_and_fails_like_a_wrong_password() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    c2s.feed(OPEN.as_bytes());
    let client = ScramClient::new(ScramHash::Sha1, "n,,", b"", "ghost", "pw");
    let (_, rest) = split(c2s.feed(auth("SCRAM-SHA-1", &client.client_first()).as_bytes()));
    let req = expect_lookup(rest);
    let (sent, _) = split(c2s.credentials(req, Ok(None)));
    let (client_final, _) = client.client_final(&challenge_payload(&sent));
    let (sent, _) = split(c2s.feed(response(&client_final).as_bytes()));
    assert_eq!(sent, failure("not-authorized"));
}

#[test]
fn storage_failure_is_temporary() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    c2s.feed(OPEN.as_bytes());
    let client = ScramClient::new(ScramHash::Sha1, "n,,", b"", "juliet", "pw");
    let (_, rest) = split(c2s.feed(auth("SCRAM-SHA-1", &client.client_first()).as_bytes()));
    let (sent, _) = split(c2s.credentials(expect_lookup(rest), Err(LookupFailed)));
    assert_eq!(sent, failure("temporary-auth-failure"));
}

#[test]
fn plain_without_initial_response_and_pipelined_restart() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    c2s.feed(OPEN.as_bytes());
    let (sent, _) =
        split(c2s.feed(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'/>"));
    assert_eq!(
        sent,
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
    );
    // The client sends its response and, optimistically, the restarted stream header.
    let pipelined = format!("{}{OPEN}", response(b"juliet@example.com\0Juliet\0pw"));
    let (sent, rest) = split(c2s.feed(pipelined.as_bytes()));
    assert_eq!(sent, "");
    let req = plain_request(rest);
    assert_eq!(req.username, "juliet", "usernames are normalised");
    assert_eq!(req.password, "pw");
    let (sent, rest) = split(c2s.plain_verified(req, Ok(true)));
    assert_eq!(
        sent,
        format!(
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>{}",
            features(POST_AUTH)
        )
    );
    assert!(matches!(rest.as_slice(), [Action::Authenticated { .. }]));
}

#[test]
fn plain_with_foreign_authzid_is_refused() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    c2s.feed(OPEN.as_bytes());
    let (sent, _) = split(c2s.feed(auth("PLAIN", b"romeo@example.com\0juliet\0pw").as_bytes()));
    assert_eq!(sent, failure("invalid-authzid"));
    let (sent, _) = split(
        c2s.feed(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!</auth>"),
    );
    assert!(sent.starts_with(&failure("incorrect-encoding")), "{sent}");
}

#[test]
fn wrong_plain_password_and_abort() {
    let mut c2s = C2s::new(
        Arc::new(C2sConfig {
            max_auth_failures: 5,
            ..config(true)
        }),
        Transport::DirectTls(binding()),
    );
    c2s.feed(OPEN.as_bytes());
    let (_, rest) = split(c2s.feed(auth("PLAIN", b"\0juliet\0pw").as_bytes()));
    let (sent, _) = split(c2s.plain_verified(plain_request(rest), Ok(false)));
    assert_eq!(sent, failure("not-authorized"));
    c2s.feed(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'/>");
    let (sent, _) = split(c2s.feed(b"<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"));
    assert_eq!(sent, failure("aborted"));
    let client = ScramClient::new(ScramHash::Sha256, "y,,", b"", "juliet", "pw");
    let (sent, _) = split(c2s.feed(auth("SCRAM-SHA-256", &client.client_first()).as_bytes()));
    assert_eq!(
        sent,
        failure("not-authorized"),
        "y,, while -PLUS is offered is a downgrade"
    );
    let (sent, _) = split(c2s.feed(auth("SCRAM-SHA-256", b"n,,n=juliet").as_bytes()));
    assert_eq!(sent, failure("malformed-request"));
}

#[test]
fn byte_by_byte_login_gives_the_same_transcript() {
    // The same SCRAM login fed whole and one byte at a time must produce the same output.
    fn run(chunked: bool) -> String {
        let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
        let client = ScramClient::new(ScramHash::Sha256, "n,,", b"", "juliet", "pw");
        let feed = |c2s: &mut C2s, bytes: &[u8]| -> (String, Vec<Action>) {
            if chunked {
                let mut all = Vec::new();
                for b in bytes {
                    all.extend(c2s.feed(std::slice::from_ref(b)));
                }
                split(all)
            } else {
                split(c2s.feed(bytes))
            }
        };
        let mut transcript = feed(&mut c2s, OPEN.as_bytes()).0;
        let (_, rest) = feed(
            &mut c2s,
            auth("SCRAM-SHA-256", &client.client_first()).as_bytes(),
        );
        let creds = ScramCredentials::derive(ScramHash::Sha256, "pw", b"salt", 16);
        let (sent, _) = split(c2s.credentials(expect_lookup(rest), Ok(Some(creds))));
        transcript += &sent;
        let (client_final, _) = client.client_final(&challenge_payload(&sent));
        transcript += &feed(&mut c2s, response(&client_final).as_bytes()).0;
        transcript += &feed(&mut c2s, OPEN.as_bytes()).0;
        transcript
    }
    let whole = run(false);
    assert!(whole.contains("<success "));
    assert!(whole.ends_with(&features(POST_AUTH)));
    // Stream ids and nonces differ per run: mask ids and SASL payloads.
    let mask = |s: String| {
        ["id='", "sasl'>"].iter().fold(s, |s, marker| {
            let mut out = String::new();
            let mut parts = s.split(marker);
            out.push_str(parts.next().unwrap());
            for part in parts {
                out.push_str(marker);
                out.push('X');
                out.push_str(&part[part.find(['\'', '<']).unwrap()..]);
            }
            out
        })
    };
    assert_eq!(mask(run(true)), mask(whole));
}

#[test]
fn stale_tickets_are_ignored() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    c2s.feed(OPEN.as_bytes());
    let client = ScramClient::new(ScramHash::Sha1, "n,,", b"", "juliet", "pw");
    let (_, rest) = split(c2s.feed(auth("SCRAM-SHA-1", &client.client_first()).as_bytes()));
    let req = expect_lookup(rest);
    // The server closes before storage answers; the late answer does nothing.
    let _ = c2s.close(None);
    assert!(c2s.credentials(req, Ok(None)).is_empty());
}

#[test]
fn second_authentication_is_a_policy_violation() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    let client = ScramClient::new(ScramHash::Sha256, "n,,", b"", "juliet", "pw");
    scram_login(&mut c2s, &client, "SCRAM-SHA-256", "pw");
    c2s.feed(OPEN.as_bytes());
    let (sent, _) = split(c2s.feed(auth("PLAIN", b"\0juliet\0pw").as_bytes()));
    assert_eq!(sent, stream_error("policy-violation"));
}
