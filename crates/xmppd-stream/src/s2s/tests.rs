use super::dialback::{self, Dialback, DialbackError, DialbackKind, Verdict};
use super::negotiation::{self, Features, NegotiationError};
use crate::ns;
use minidom::Element;

fn parse(xml: &str) -> Element {
    xml.parse().expect("test XML parses")
}

#[test]
fn dialback_key_matches_an_independent_computation() {
    // The inputs of XEP-0185's example; the value computed with Python's hmac and hashlib.
    let key = dialback::key(
        b"s3cr3tf0rd14lb4ck",
        "example.net",
        "example.org",
        "D60000229F",
    );
    assert_eq!(
        key,
        "787d747fddd82406a36c193fd1437027b163c5f9f787a2b77c30d15409c34aa3"
    );
}

#[test]
fn dialback_key_depends_on_every_input() {
    let base = dialback::key(b"secret", "a.test", "b.test", "id1");
    assert_ne!(base, dialback::key(b"secreT", "a.test", "b.test", "id1"));
    assert_ne!(base, dialback::key(b"secret", "b.test", "a.test", "id1"));
    assert_ne!(base, dialback::key(b"secret", "a.test", "b.test", "id2"));
}

#[test]
fn result_request_round_trips() {
    let request = Dialback::result_request("b.test", "a.test", "abc123".into());
    let el = request.to_element();
    assert!(el.is("result", dialback::NS));
    assert_eq!(el.text(), "abc123");
    assert_eq!(Dialback::parse(&el), Ok(request));
}

#[test]
fn verify_answer_swaps_addresses_and_drops_key() {
    let request = Dialback::verify_request("a.test", "b.test", "sid", "k".into());
    let answer = request.answer(Verdict::Valid);
    assert_eq!(answer.from, "b.test");
    assert_eq!(answer.to, "a.test");
    assert_eq!(answer.id.as_deref(), Some("sid"));
    assert_eq!(answer.key, None);
    let el = answer.to_element();
    assert_eq!(el.attr("type"), Some("valid"));
    assert_eq!(Dialback::parse(&el), Ok(answer));
}

#[test]
fn dialback_parses_prosody_style_prefixed_element() {
    let el = parse(
        "<db:result xmlns:db='jabber:server:dialback' from='p.test' to='x.test'>\
         0123abcd</db:result>",
    );
    let parsed = Dialback::parse(&el).expect("parses");
    assert_eq!(parsed.kind, DialbackKind::Result);
    assert_eq!(parsed.key.as_deref(), Some("0123abcd"));
    assert_eq!(parsed.verdict, None);
}

#[test]
fn dialback_bad_input_names_the_problem() {
    let no_id = parse("<verify xmlns='jabber:server:dialback' from='a' to='b'>k</verify>");
    assert_eq!(Dialback::parse(&no_id), Err(DialbackError::Missing("id")));
    let no_from = parse("<result xmlns='jabber:server:dialback' to='b'>k</result>");
    assert_eq!(
        Dialback::parse(&no_from),
        Err(DialbackError::Missing("from"))
    );
    let bad_type = parse("<result xmlns='jabber:server:dialback' from='a' to='b' type='ok'/>");
    assert_eq!(
        Dialback::parse(&bad_type),
        Err(DialbackError::Type("ok".into()))
    );
    let long = format!(
        "<result xmlns='jabber:server:dialback' from='a' to='b'>{}</result>",
        "a".repeat(300)
    );
    assert_eq!(
        Dialback::parse(&parse(&long)),
        Err(DialbackError::KeyTooLong)
    );
    let other = parse("<result xmlns='jabber:client' from='a' to='b'/>");
    assert_eq!(Dialback::parse(&other), Err(DialbackError::NotDialback));
}

#[test]
fn features_round_trip() {
    for features in [
        Features {
            starttls: true,
            external: false,
            dialback: false,
        },
        Features {
            starttls: false,
            external: true,
            dialback: true,
        },
        Features::default(),
    ] {
        assert_eq!(Features::parse(&features.to_element()), Some(features));
    }
    assert_eq!(Features::parse(&negotiation::starttls()), None);
}

#[test]
fn features_read_from_another_server() {
    let el = parse(
        "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
         <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>\
         <mechanism>EXTERNAL</mechanism></mechanisms>\
         <dialback xmlns='urn:xmpp:features:dialback'/></stream:features>",
    );
    assert_eq!(
        Features::parse(&el),
        Some(Features {
            starttls: false,
            external: true,
            dialback: true,
        })
    );
}

#[test]
fn external_auth_round_trips_and_accepts_empty() {
    let auth = negotiation::external_auth("b.test");
    assert_eq!(
        negotiation::parse_external_auth(&auth),
        Ok(Some("b.test".to_owned()))
    );
    let empty =
        parse("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>");
    assert_eq!(negotiation::parse_external_auth(&empty), Ok(None));
    let plain =
        parse("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AA==</auth>");
    assert_eq!(
        negotiation::parse_external_auth(&plain),
        Err(NegotiationError::Mechanism("PLAIN".into()))
    );
    let junk =
        parse("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>!!</auth>");
    assert_eq!(
        negotiation::parse_external_auth(&junk),
        Err(NegotiationError::Payload)
    );
}

#[test]
fn namespace_switch_keeps_forwarded_content() {
    let el = parse(
        "<message xmlns='jabber:server' from='a@b' to='c@d'><body>hi</body>\
         <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:server'/></forwarded>\
         </message>",
    );
    let inside = negotiation::from_server(el);
    assert!(inside.is("message", ns::JABBER_CLIENT));
    assert!(inside.get_child("body", ns::JABBER_CLIENT).is_some());
    let forwarded = inside
        .get_child("forwarded", "urn:xmpp:forward:0")
        .expect("kept");
    // Not in the content namespace's scope: left as it was.
    assert!(forwarded.get_child("message", ns::JABBER_SERVER).is_some());
    let back = negotiation::to_server(inside);
    assert!(negotiation::is_stanza(&back));
    assert_eq!(back.attr("to"), Some("c@d"));
    let bytes = crate::writer::element_in(&back, ns::JABBER_SERVER).expect("serialises");
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(text.starts_with("<message "), "{text}");
    assert!(!text.contains("xmlns='jabber:server'><body"), "{text}");
}

#[test]
fn s2s_header_declares_dialback_prefix() {
    let header = crate::StreamHeader {
        from: Some("a.test".into()),
        to: Some("b.test".into()),
        version: Some("1.0".into()),
        xmlns: ns::JABBER_SERVER.into(),
        ..Default::default()
    };
    let bytes = crate::writer::header_s2s(&header).expect("writes");
    let mut reader = crate::StreamReader::new(crate::Limits::default());
    let events = reader.feed(&bytes).expect("reads back");
    assert!(matches!(&events[0], crate::StreamEvent::Header(h) if h.xmlns == ns::JABBER_SERVER));
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(text.contains("jabber:server:dialback"), "{text}");
}

#[test]
fn dialback_elements_use_the_db_prefix_on_server_streams() {
    // ejabberd matches `db:result` by its qualified name: the prefix the header declares.
    let el = Dialback::result_request("a.test", "b.test", "k".into()).to_element();
    let bytes = crate::writer::element_in(&el, ns::JABBER_SERVER).expect("serialises");
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(text.starts_with("<db:result "), "{text}");
    assert!(!text.contains("xmlns"), "{text}");
}
