//! Shared transcript helpers for the c2s tests.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use minidom::Element;
use xmppd_stream::c2s::{CredentialsRequest, PlainRequest};
use xmppd_stream::sasl::credentials::ScramCredentials;
use xmppd_stream::sasl::mechanisms::Mechanism;
use xmppd_stream::sasl::scram::{ChannelBindingData, UnknownUserKey};
use xmppd_stream::{Action, C2s, C2sConfig, Limits};

use super::ScramClient;

pub const SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
pub const OPEN: &str = "<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
pub const HEADER_OUT: &str = "<?xml version='1.0' encoding='utf-8'?>\n<stream:stream \
    xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='ID' \
    from='example.com' version='1.0' xml:lang='en'>";

pub fn config(require_encryption: bool) -> C2sConfig {
    C2sConfig {
        hosts: ["example.com".to_owned()].into(),
        limits: Limits::default(),
        require_encryption,
        starttls_available: true,
        mechanisms: Mechanism::all(),
        plain_allowed: true,
        max_auth_failures: 2,
        unknown_user: UnknownUserKey {
            secret: [1; 32],
            iterations: 16,
        },
        extra_features: vec![Element::builder("sm", "urn:xmpp:sm:3").build()],
        registration_hosts: Default::default(),
    }
}

pub fn binding() -> ChannelBindingData {
    ChannelBindingData {
        tls_exporter: Some(vec![42; 32]),
        tls_server_end_point: None,
    }
}

/// Split actions into the text that was sent (stream ids masked) and the rest.
pub fn split(actions: Vec<Action>) -> (String, Vec<Action>) {
    let mut sent = String::new();
    let mut rest = Vec::new();
    for a in actions {
        match a {
            Action::Send(bytes) => sent.push_str(&String::from_utf8(bytes).unwrap()),
            other => rest.push(other),
        }
    }
    if let Some(start) = sent
        .find("<stream:stream")
        .and_then(|h| sent[h..].find(" id='").map(|i| h + i))
    {
        let end = sent[start + 5..].find('\'').unwrap() + start + 5;
        sent.replace_range(start + 5..end, "ID");
    }
    (sent, rest)
}

pub fn features(inner: &str) -> String {
    format!("{HEADER_OUT}<stream:features>{inner}</stream:features>")
}

pub const PLUS_MECHS: &str = "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
    <mechanism>SCRAM-SHA-512-PLUS</mechanism><mechanism>SCRAM-SHA-256-PLUS</mechanism>\
    <mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>SCRAM-SHA-512</mechanism>\
    <mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism>\
    <mechanism>PLAIN</mechanism></mechanisms>\
    <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/>\
    </sasl-channel-binding>";
pub const POST_AUTH: &str = "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
    <session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>\
    <sm xmlns='urn:xmpp:sm:3'/>";

pub fn auth(mechanism: &str, data: &[u8]) -> String {
    let el = Element::builder("auth", SASL)
        .attr(rxml::NcName::try_from("mechanism").unwrap(), mechanism)
        .append(STANDARD.encode(data))
        .build();
    String::from_utf8(xmppd_stream::writer::element(&el).unwrap()).unwrap()
}

pub fn response(data: &[u8]) -> String {
    let el = Element::builder("response", SASL)
        .append(STANDARD.encode(data))
        .build();
    String::from_utf8(xmppd_stream::writer::element(&el).unwrap()).unwrap()
}

pub fn failure(condition: &str) -> String {
    format!("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><{condition}/></failure>")
}

pub fn stream_error(condition: &str) -> String {
    format!(
        "<stream:error><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"
    )
}

pub fn expect_lookup(rest: Vec<Action>) -> CredentialsRequest {
    match rest.into_iter().next() {
        Some(Action::LookupCredentials(req)) => req,
        other => panic!("expected a lookup, got {other:?}"),
    }
}

pub fn challenge_payload(sent: &str) -> Vec<u8> {
    let start = sent.find("xmpp-sasl'>").unwrap() + "xmpp-sasl'>".len();
    let end = sent.find("</challenge>").unwrap();
    STANDARD.decode(&sent[start..end]).unwrap()
}

/// Drive a SCRAM login over direct TLS up to the restarted, bound stream.
pub fn scram_login(c2s: &mut C2s, client: &ScramClient, mechanism: &str, password: &str) -> String {
    let (sent, _) = split(c2s.feed(OPEN.as_bytes()));
    assert_eq!(sent, features(PLUS_MECHS));
    let (sent, rest) = split(c2s.feed(auth(mechanism, &client.client_first()).as_bytes()));
    assert_eq!(sent, "");
    let req = expect_lookup(rest);
    assert_eq!(req.username, "juliet");
    let creds = ScramCredentials::derive(req.mechanism.hash, password, b"NaCl-NaCl-NaCl!!", 16);
    let (sent, rest) = split(c2s.credentials(req, Ok(Some(creds))));
    assert!(rest.is_empty());
    let (client_final, server_final) = client.client_final(&challenge_payload(&sent));
    let (sent, rest) = split(c2s.feed(response(&client_final).as_bytes()));
    sent.replace(&STANDARD.encode(&server_final), "V") + &format!("{rest:?}")
}

pub fn plain_request(rest: Vec<Action>) -> PlainRequest {
    match rest.into_iter().next() {
        Some(Action::VerifyPlain(req)) => req,
        other => panic!("expected VerifyPlain, got {other:?}"),
    }
}
