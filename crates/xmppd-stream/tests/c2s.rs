//! Client stream negotiation as transcripts: bytes in, bytes and actions out, no IO
//! (RFC 6120 §4, §5, §7, XEP-0368).

mod support;

use std::sync::Arc;

use support::ScramClient;
use support::c2s::*;
use xmppd_stream::c2s::BindRefusal;
use xmppd_stream::sasl::credentials::ScramHash;
use xmppd_stream::{Action, C2s, DefinedCondition, Stage, Transport};

#[test]
fn scram_sha256_login_bind_and_stanzas() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    assert_eq!(c2s.stage(), Stage::Secured);
    let client = ScramClient::new(ScramHash::Sha256, "n,,", b"", "juliet", "r0m30");
    let out = scram_login(&mut c2s, &client, "SCRAM-SHA-256", "r0m30");
    assert_eq!(
        out,
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>V</success>\
         [Authenticated { username: \"juliet\" }]"
    );
    assert_eq!(c2s.stage(), Stage::Authenticated);

    // The restarted stream offers bind, session and the caller's extra features.
    let (sent, _) = split(c2s.feed(OPEN.as_bytes()));
    assert_eq!(sent, features(POST_AUTH));

    let bind = "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
                <resource>balcony</resource></bind></iq>";
    let (sent, rest) = split(c2s.feed(bind.as_bytes()));
    assert_eq!(sent, "");
    let Some(Action::BindRequested(req)) = rest.into_iter().next() else {
        panic!("expected a bind request")
    };
    assert_eq!(req.resource.as_deref(), Some("balcony"));
    let jid = jid::FullJid::new("juliet@example.com/balcony").unwrap();
    let (sent, rest) = split(c2s.bind_result(req, Ok(jid.clone())));
    assert_eq!(
        sent,
        "<iq id='b1' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <jid>juliet@example.com/balcony</jid></bind></iq>"
    );
    assert!(matches!(rest.as_slice(), [Action::Bound(j)] if *j == jid));
    assert_eq!(c2s.stage(), Stage::Bound);

    let session =
        "<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>";
    let (sent, _) = split(c2s.feed(session.as_bytes()));
    assert_eq!(sent, "<iq id='s1' type='result'/>");

    let (sent, rest) = split(c2s.feed(
        b"<message to='romeo@example.net'><body>hi</body></message><r xmlns='urn:xmpp:sm:3'/>",
    ));
    assert_eq!(sent, "");
    assert!(matches!(&rest[0], Action::Stanza(m) if m.is("message", "jabber:client")));
    assert!(matches!(&rest[1], Action::Nonza(r) if r.is("r", "urn:xmpp:sm:3")));

    let (sent, rest) = split(c2s.feed(b"</stream:stream>"));
    assert_eq!(sent, "</stream:stream>");
    assert!(matches!(rest.as_slice(), [Action::Close(None)]));
    assert_eq!(c2s.stage(), Stage::Closed);
}

#[test]
fn starttls_required_refuses_auth_and_drops_injected_plaintext() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::Plain);
    let (sent, _) = split(c2s.feed(OPEN.as_bytes()));
    assert_eq!(
        sent,
        features("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>")
    );
    // Authentication before TLS: encryption-required.
    let (sent, _) = split(c2s.feed(auth("PLAIN", b"\0juliet\0pw").as_bytes()));
    assert_eq!(sent, failure("encryption-required"));
    // <starttls/>, with plaintext injected behind it in the same read.
    let (sent, rest) = split(
        c2s.feed(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><iq type='set' id='evil'/>"),
    );
    assert_eq!(sent, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    assert!(matches!(rest.as_slice(), [Action::StartTls]));
    assert!(c2s.feed(b"<more-plaintext/>").is_empty());
    c2s.tls_established(binding());
    assert_eq!(c2s.stage(), Stage::Secured);
    let (sent, _) = split(c2s.feed(OPEN.as_bytes()));
    assert_eq!(sent, features(PLUS_MECHS));
}

#[test]
fn stanza_before_required_tls_is_not_authorized() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::Plain);
    let _ = c2s.feed(OPEN.as_bytes());
    // RFC 6120 §4.9.3.12: data before the stream is secured and authenticated.
    let (sent, rest) = split(c2s.feed(b"<presence/>"));
    assert!(
        sent.contains("<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"),
        "{sent}"
    );
    assert!(
        matches!(rest.as_slice(), [Action::Close(Some(e))] if e.condition == DefinedCondition::NotAuthorized)
    );
}

#[test]
fn optional_tls_offers_scram_but_not_plain_or_plus_in_the_clear() {
    let mut c2s = C2s::new(Arc::new(config(false)), Transport::Plain);
    let (sent, _) = split(c2s.feed(OPEN.as_bytes()));
    assert_eq!(
        sent,
        features(
            "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\
             <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
             <mechanism>SCRAM-SHA-512</mechanism><mechanism>SCRAM-SHA-256</mechanism>\
             <mechanism>SCRAM-SHA-1</mechanism></mechanisms>"
        )
    );
    let (sent, _) = split(c2s.feed(auth("PLAIN", b"\0juliet\0pw").as_bytes()));
    assert_eq!(sent, failure("invalid-mechanism"));
}

#[test]
fn stanza_before_auth_or_bind_is_not_authorized() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    c2s.feed(OPEN.as_bytes());
    let (sent, rest) = split(c2s.feed(b"<message to='a@b'/>"));
    assert_eq!(sent, stream_error("not-authorized"));
    assert!(matches!(rest.as_slice(), [Action::Close(Some(_))]));

    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    let client = ScramClient::new(ScramHash::Sha256, "n,,", b"", "juliet", "pw");
    scram_login(&mut c2s, &client, "SCRAM-SHA-256", "pw");
    c2s.feed(OPEN.as_bytes());
    let (sent, _) = split(c2s.feed(b"<presence/>"));
    assert_eq!(sent, stream_error("not-authorized"));
    assert_eq!(c2s.stage(), Stage::Closed);
}

#[test]
fn bind_conflict_is_an_iq_error_and_retry_works() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    let client = ScramClient::new(ScramHash::Sha256, "n,,", b"", "juliet", "pw");
    scram_login(&mut c2s, &client, "SCRAM-SHA-256", "pw");
    c2s.feed(OPEN.as_bytes());
    let (_, rest) = split(
        c2s.feed(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"),
    );
    let Some(Action::BindRequested(req)) = rest.into_iter().next() else {
        panic!()
    };
    assert_eq!(req.resource, None);
    let (sent, _) = split(c2s.bind_result(req, Err(BindRefusal::Conflict)));
    assert_eq!(
        sent,
        "<iq id='b' type='error'><error type='cancel'>\
         <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
    assert_eq!(c2s.stage(), Stage::Authenticated);
    let (_, rest) = split(
        c2s.feed(b"<iq type='set' id='c'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"),
    );
    assert!(matches!(rest.as_slice(), [Action::BindRequested(_)]));
}

#[test]
fn unknown_host_gets_header_then_host_unknown() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::Plain);
    let (sent, rest) = split(c2s.feed(OPEN.replace("example.com", "example.org").as_bytes()));
    assert_eq!(
        sent,
        HEADER_OUT.replace(" from='example.com'", "") + &stream_error("host-unknown")
    );
    assert!(
        matches!(rest.as_slice(), [Action::Close(Some(e))] if e.condition == DefinedCondition::HostUnknown)
    );
}

#[test]
fn malformed_xml_gets_header_then_not_well_formed() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::Plain);
    let (sent, _) = split(c2s.feed(b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='example.com' version='1.0'><a></b>"));
    let required = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>";
    let rest = sent.strip_prefix(&features(required)).expect(&sent);
    assert!(
        rest.starts_with(
            "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
        ),
        "{rest}"
    );
    assert!(rest.ends_with("</stream:error></stream:stream>"), "{rest}");
    assert_eq!(c2s.stage(), Stage::Closed);
}

#[test]
fn server_side_close_and_session_size() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::Plain);
    c2s.feed(OPEN.as_bytes());
    let (sent, rest) = split(c2s.close(None));
    assert_eq!(sent, "</stream:stream>");
    assert!(matches!(rest.as_slice(), [Action::Close(None)]));
    let size = std::mem::size_of::<C2s>();
    assert!(size <= 1024, "C2s is {size} bytes");
}

#[test]
fn starttls_on_a_secured_stream_fails_and_closes() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    c2s.feed(OPEN.as_bytes());
    let (sent, rest) = split(c2s.feed(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    assert_eq!(
        sent,
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"
    );
    assert!(matches!(rest.as_slice(), [Action::Close(None)]));
}

#[test]
fn host_is_normalised_and_must_not_change_on_restart() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    let (sent, _) = split(c2s.feed(OPEN.replace("example.com", "EXAMPLE.com").as_bytes()));
    assert_eq!(sent, features(PLUS_MECHS));
    assert_eq!(c2s.host(), Some("example.com"));

    let mut c2s = C2s::new(Arc::new(config(true)), Transport::Plain);
    c2s.feed(OPEN.as_bytes());
    c2s.feed(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    c2s.tls_established(binding());
    let other = OPEN.replace("example.com", "other.example");
    let (sent, _) = split(c2s.feed(other.as_bytes()));
    assert!(sent.ends_with(&stream_error("host-unknown")), "{sent}");
}
