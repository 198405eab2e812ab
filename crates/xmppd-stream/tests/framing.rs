//! Stream framing and serialisation (RFC 6120 §4).

use minidom::Element;
use proptest::prelude::*;
use xmppd_stream::framing::MAX_TOKEN_BYTES;
use xmppd_stream::{
    DefinedCondition, FramingError, Limits, STREAM_CLOSE, StreamError, StreamEvent, StreamHeader,
    StreamReader, writer,
};

const HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream to='example.com' \
    xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' \
    xml:lang='en'>";

fn open(limits: Limits) -> StreamReader {
    let mut r = StreamReader::new(limits);
    let events = r.feed(HEADER).expect("header parses");
    assert!(matches!(events.as_slice(), [StreamEvent::Header(_)]));
    r
}

#[test]
fn header_fields_are_read() {
    let mut r = StreamReader::new(Limits::default());
    let events = r.feed(HEADER).unwrap();
    assert_eq!(
        events,
        vec![StreamEvent::Header(StreamHeader {
            to: Some("example.com".into()),
            from: None,
            id: None,
            version: Some("1.0".into()),
            lang: Some("en".into()),
            xmlns: "jabber:client".into(),
        })]
    );
}

#[test]
fn byte_by_byte_feeding_gives_the_same_events() {
    let doc = [
        HEADER,
        b"<message to='a@b'><body>hi &amp; bye</body></message> \n<presence/></stream:stream>",
    ]
    .concat();
    let mut whole = StreamReader::new(Limits::default());
    let expected = whole.feed(&doc).unwrap();
    let mut r = StreamReader::new(Limits::default());
    let mut got = Vec::new();
    for b in &doc {
        got.extend(r.feed(std::slice::from_ref(b)).unwrap());
    }
    // Whitespace may be reported in several pieces when split; compare without it.
    let strip = |v: Vec<StreamEvent>| {
        v.into_iter()
            .filter(|e| *e != StreamEvent::Whitespace)
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(got), strip(expected.clone()));
    assert_eq!(expected.len(), 5);
    let StreamEvent::Stanza(msg) = &expected[1] else {
        panic!("expected a stanza, got {:?}", expected[1]);
    };
    assert!(msg.is("message", "jabber:client"));
    assert_eq!(msg.attr("to"), Some("a@b"));
    assert_eq!(
        msg.get_child("body", "jabber:client").unwrap().text(),
        "hi & bye"
    );
    assert_eq!(expected[2], StreamEvent::Whitespace);
    assert_eq!(expected[4], StreamEvent::Close);
    assert!(r.is_closed());
}

#[test]
fn prefixed_and_foreign_namespaces_resolve() {
    let mut r = open(Limits::default());
    let ev = r
        .feed(b"<iq type='get' id='1'><q:query xmlns:q='jabber:iq:roster'/></iq>")
        .unwrap();
    let StreamEvent::Stanza(iq) = &ev[0] else {
        panic!()
    };
    assert!(iq.has_child("query", "jabber:iq:roster"));
}

fn fails(limits: Limits, tail: &[u8]) -> FramingError {
    let mut r = open(limits);
    let err = r.feed(tail).unwrap_err();
    // Errors are sticky.
    assert_eq!(r.feed(b"<presence/>").unwrap_err(), err);
    err
}

#[test]
fn oversized_stanza_is_a_policy_violation() {
    let limits = Limits {
        max_stanza_bytes: 100,
        ..Limits::default()
    };
    let mut big = b"<message><body>".to_vec();
    big.extend(std::iter::repeat_n(b'x', 200));
    let err = fails(limits, &big);
    assert_eq!(err, FramingError::StanzaTooLarge { limit: 100 });
    assert_eq!(err.condition(), DefinedCondition::PolicyViolation);
}

#[test]
fn limit_counts_per_stanza_not_per_stream() {
    let limits = Limits {
        max_stanza_bytes: 64,
        ..Limits::default()
    };
    let mut r = open(limits);
    for _ in 0..100 {
        let ev = r.feed(b"<presence/> ").unwrap();
        // The trailing whitespace is reported once the next `<` ends it.
        let stanzas = ev
            .iter()
            .filter(|e| matches!(e, StreamEvent::Stanza(_)))
            .count();
        assert_eq!(stanzas, 1);
    }
}

#[test]
fn deep_nesting_is_a_policy_violation() {
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let err = fails(limits, b"<a><b><c><d>");
    assert_eq!(err, FramingError::TooDeep { limit: 3 });
    assert_eq!(err.condition(), DefinedCondition::PolicyViolation);
}

#[test]
fn too_many_attributes_is_a_policy_violation() {
    let limits = Limits {
        max_attributes: 3,
        ..Limits::default()
    };
    let err = fails(limits, b"<message a='1' b='2' c='3' d='4'/>");
    assert_eq!(err, FramingError::TooManyAttributes { limit: 3 });
}

#[test]
fn comments_pis_and_dtds_are_restricted_xml() {
    for restricted in [
        &b"<?php x?>"[..],
        b"<!-- c -->",
        b"<message><!-- inside --></message>",
    ] {
        let err = fails(Limits::default(), restricted);
        assert!(
            matches!(err, FramingError::Parse(rxml::Error::RestrictedXml(_))),
            "{restricted:?} gave {err:?}"
        );
        assert_eq!(err.condition(), DefinedCondition::RestrictedXml);
    }
}

#[test]
fn undeclared_entities_and_bad_xml_are_not_well_formed() {
    for bad in [
        &b"<message><body>&xxe;</body></message>"[..],
        // Inside the stream element a DTD is not even well-formed XML.
        b"<!DOCTYPE foo [<!ENTITY x 'y'>]>",
        b"<message></presence>",
        b"<x:message/>",
    ] {
        let err = fails(Limits::default(), bad);
        assert!(
            matches!(err, FramingError::Parse(_)),
            "{bad:?} gave {err:?}"
        );
        assert_eq!(err.condition(), DefinedCondition::NotWellFormed);
    }
}

#[test]
fn text_between_stanzas_is_bad_format() {
    let err = fails(Limits::default(), b"hello<presence/>");
    assert_eq!(err, FramingError::TextAtStreamLevel);
    assert_eq!(err.condition(), DefinedCondition::BadFormat);
}

#[test]
fn header_errors_map_to_their_conditions() {
    let cases: [(&[u8], DefinedCondition); 4] = [
        (
            b"<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' version='1.0'>",
            DefinedCondition::InvalidNamespace,
        ),
        (
            b"<stream:stream xmlns='jabber:other' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
            DefinedCondition::InvalidNamespace,
        ),
        (
            b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
            DefinedCondition::InvalidNamespace,
        ),
        (
            b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='2.0'>",
            DefinedCondition::UnsupportedVersion,
        ),
    ];
    for (bytes, condition) in cases {
        let err = StreamReader::new(Limits::default())
            .feed(bytes)
            .unwrap_err();
        assert_eq!(err.condition(), condition, "{err}");
    }
    let err = StreamReader::new(Limits::default())
        .feed(b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        .unwrap_err();
    assert_eq!(err, FramingError::Version(None));
}

#[test]
fn whitespace_keepalive_is_reported_at_once() {
    let mut r = open(Limits::default());
    assert_eq!(r.feed(b" ").unwrap(), vec![StreamEvent::Whitespace]);
    assert_eq!(r.feed(b"\n\n").unwrap(), vec![StreamEvent::Whitespace]);
}

#[test]
fn reset_expects_a_new_header() {
    let mut r = open(Limits::default());
    r.reset();
    let ev = r.feed(HEADER).unwrap();
    assert!(matches!(ev.as_slice(), [StreamEvent::Header(_)]));
}

#[test]
fn idle_reader_is_small() {
    let size = std::mem::size_of::<StreamReader>();
    assert!(size <= 700, "StreamReader is {size} bytes");
}

#[test]
fn header_serialises_with_prefix_and_escaping() {
    let h = StreamHeader {
        to: None,
        from: Some("example.com".into()),
        id: Some("a'b".into()),
        version: Some("1.0".into()),
        lang: Some("en".into()),
        xmlns: "jabber:client".into(),
    };
    let bytes = writer::header(&h).unwrap();
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        "<?xml version='1.0' encoding='utf-8'?>\n<stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' id='a&#39;b' from='example.com' \
         version='1.0' xml:lang='en'>"
    );
    // What we write, we can read back.
    let ev = StreamReader::new(Limits::default()).feed(&bytes).unwrap();
    assert_eq!(ev, vec![StreamEvent::Header(h)]);
}

#[test]
fn close_tag_matches_the_encoder() {
    let mut enc = rxml::Encoder::new();
    let mut buf = Vec::new();
    let t = enc.ns_tracker_mut();
    rxml::writer::TrackNamespace::declare_fixed(
        t,
        Some(rxml::NcNameStr::from_str("stream").unwrap()),
        rxml::Namespace::from("http://etherx.jabber.org/streams"),
    );
    enc.encode(
        rxml::Item::ElementHeadStart(
            rxml::Namespace::from("http://etherx.jabber.org/streams"),
            rxml::NcNameStr::from_str("stream").unwrap(),
        ),
        &mut buf,
    )
    .unwrap();
    enc.encode(rxml::Item::ElementHeadEnd, &mut buf).unwrap();
    buf.clear();
    enc.encode(rxml::Item::ElementFoot, &mut buf).unwrap();
    assert_eq!(buf, STREAM_CLOSE);
}

#[test]
fn elements_serialise_in_stream_context() {
    let el: Element = "<message xmlns='jabber:client' to='a@b'><body>1 &lt; 2</body>\
        <x xmlns='urn:other' a='&quot;&apos;'/></message>"
        .parse()
        .unwrap();
    let bytes = writer::element(&el).unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "<message to='a@b'><body>1 &lt; 2</body><x xmlns='urn:other' a='&#34;&#39;'/></message>"
    );
}

#[test]
fn stream_error_serialises_with_condition_and_text() {
    let e = StreamError::new(DefinedCondition::HostUnknown).with_text("no such host");
    let s = String::from_utf8(e.to_bytes().unwrap()).unwrap();
    assert_eq!(
        s,
        "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>no such host</text>\
         </stream:error>"
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8)) {
        let mut r = StreamReader::new(Limits { max_stanza_bytes: 256, max_depth: 4, max_attributes: 4 });
        let _ = r.feed(HEADER);
        for c in chunks {
            if r.feed(&c).is_err() { break; }
        }
    }

    #[test]
    fn serialised_text_reads_back(body in r"[^\x00-\x08\x0b-\x1f\u{fffe}\u{ffff}]{0,40}", to in "[a-z]{1,8}@[a-z]{1,8}") {
        let el = Element::builder("message", "jabber:client")
            .attr(rxml::NcName::try_from("to").unwrap(), to.as_str())
            .append(Element::builder("body", "jabber:client").append(body.as_str()).build())
            .build();
        let bytes = writer::element(&el).unwrap();
        let mut r = StreamReader::new(Limits::default());
        r.feed(HEADER).unwrap();
        let ev = r.feed(&bytes).unwrap();
        let StreamEvent::Stanza(back) = &ev[0] else { panic!("{ev:?}") };
        prop_assert_eq!(back.attr("to"), Some(to.as_str()));
        prop_assert_eq!(back.get_child("body", "jabber:client").unwrap().text(), body);
    }
}

#[test]
fn unnamespaced_children_keep_their_empty_namespace() {
    let mut r = open(Limits::default());
    let ev = r.feed(b"<message><x xmlns=''><y/></x></message>").unwrap();
    let StreamEvent::Stanza(msg) = &ev[0] else {
        panic!()
    };
    assert!(msg.has_child("x", ""));
    let bytes = writer::element(msg).unwrap();
    let mut r = open(Limits::default());
    let ev = r.feed(&bytes).unwrap();
    assert_eq!(
        ev,
        vec![StreamEvent::Stanza(msg.clone())],
        "{}",
        String::from_utf8_lossy(&bytes)
    );
}

#[test]
fn next_event_stops_after_each_event_so_a_restart_can_take_the_rest() {
    let mut r = open(Limits::default());
    let doc = [
        &b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"[..],
        HEADER,
    ]
    .concat();
    let mut rest = &doc[..];
    let ev = r.next_event(&mut rest).unwrap();
    assert!(matches!(ev, Some(StreamEvent::Stanza(ref s)) if s.name() == "success"));
    assert_eq!(rest, HEADER);
    r.reset();
    assert!(matches!(
        r.next_event(&mut rest).unwrap(),
        Some(StreamEvent::Header(_))
    ));
    assert!(rest.is_empty());
}

#[test]
fn attribute_values_up_to_a_long_jid_pass_longer_ones_are_a_policy_violation() {
    let node = "n".repeat(1023);
    let domain = "d".repeat(1023);
    let resource = "r".repeat(1023);
    let longest_jid = format!("<message to='{node}@{domain}/{resource}'/>");
    let mut r = open(Limits::default());
    let events = r
        .feed(longest_jid.as_bytes())
        .expect("a 3071-byte JID attribute");
    assert!(matches!(events.as_slice(), [StreamEvent::Stanza(_)]));

    let too_long = format!("<message to='{}'/>", "x".repeat(MAX_TOKEN_BYTES + 1));
    let err = fails(Limits::default(), too_long.as_bytes());
    assert_eq!(err.condition(), DefinedCondition::PolicyViolation);
}

#[test]
fn text_longer_than_a_token_is_joined_not_refused() {
    let body = "b".repeat(3 * MAX_TOKEN_BYTES);
    let stanza = format!("<message><body>{body}</body></message>");
    let mut r = open(Limits::default());
    let events = r
        .feed(stanza.as_bytes())
        .expect("long text within the stanza limit");
    let [StreamEvent::Stanza(el)] = events.as_slice() else {
        panic!("expected one stanza, got {events:?}");
    };
    let text = el.get_child("body", "jabber:client").expect("body").text();
    assert_eq!(text, body);
}
