//! RFC 7395 framing bridged to the classic stream: a WebSocket client's frames through the
//! same negotiation as TCP clients, and the server's bytes back as standalone messages.

mod support;

use std::sync::Arc;

use support::c2s::*;
use xmppd_stream::framed::{self, Frame, ServerFrames};
use xmppd_stream::sasl::scram::ChannelBindingData;
use xmppd_stream::{Action, C2s, Limits, Stage, Transport};

fn feed(c2s: &mut C2s, frames: &mut ServerFrames, message: &str) -> Vec<String> {
    let frame = framed::parse_message(message.as_bytes(), Limits::default()).unwrap();
    let bytes = framed::to_stream(&frame).unwrap();
    let mut out = Vec::new();
    for action in c2s.feed(&bytes) {
        match action {
            Action::Send(bytes) => {
                for frame in frames.feed(&bytes).unwrap() {
                    out.push(String::from_utf8(framed::to_message(&frame).unwrap()).unwrap());
                }
            }
            Action::VerifyPlain(req) => {
                let ok = req.username == "juliet" && req.password == "pw";
                for action in c2s.plain_verified(req, Ok(ok)) {
                    if let Action::Send(bytes) = action {
                        for frame in frames.feed(&bytes).unwrap() {
                            out.push(
                                String::from_utf8(framed::to_message(&frame).unwrap()).unwrap(),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

const OPEN_WS: &str =
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>";

#[test]
fn websocket_login_restart_and_close() {
    let mut c2s = C2s::new(
        Arc::new(config(true)),
        Transport::DirectTls(ChannelBindingData::none()),
    );
    let mut frames = ServerFrames::new(Limits::default());
    let out = feed(&mut c2s, &mut frames, OPEN_WS);
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(
        out[0].starts_with("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'"),
        "{}",
        out[0]
    );
    assert!(out[0].contains("from='example.com'"), "{}", out[0]);
    // Standalone: the stream prefix is declared on the features element itself; no STARTTLS,
    // and no -PLUS mechanism without channel binding.
    assert!(
        out[1].starts_with("<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"),
        "{}",
        out[1]
    );
    assert!(out[1].contains("PLAIN") && !out[1].contains("PLUS") && !out[1].contains("starttls"));

    let auth =
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABwdw==</auth>";
    let out = feed(&mut c2s, &mut frames, auth);
    assert_eq!(out, ["<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"]);
    assert_eq!(c2s.stage(), Stage::Authenticated);

    // The restart is a new <open/>, answered by a new <open/> and the bind features.
    let out = feed(&mut c2s, &mut frames, OPEN_WS);
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out[0].starts_with("<open "), "{}", out[0]);
    assert!(
        out[1].contains("urn:ietf:params:xml:ns:xmpp-bind"),
        "{}",
        out[1]
    );

    let bind = "<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
    let frame = framed::parse_message(bind.as_bytes(), Limits::default()).unwrap();
    assert!(matches!(frame, Frame::Element(ref el) if el.is("iq", "jabber:client")));

    let out = feed(
        &mut c2s,
        &mut frames,
        "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
    );
    assert_eq!(
        out,
        ["<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"]
    );
    assert_eq!(c2s.stage(), Stage::Closed);
}

#[test]
fn stanza_before_open_is_a_stream_error() {
    let mut c2s = C2s::new(
        Arc::new(config(true)),
        Transport::DirectTls(ChannelBindingData::none()),
    );
    let mut frames = ServerFrames::new(Limits::default());
    let out = feed(&mut c2s, &mut frames, "<message xmlns='jabber:client'/>");
    assert!(out.iter().any(|m| m.contains("stream:error")), "{out:?}");
    assert_eq!(
        out.last().map(String::as_str),
        Some("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>")
    );
}

#[test]
fn a_message_is_exactly_one_complete_element() {
    let limits = Limits::default();
    assert!(framed::parse_message(b"<message xmlns='jabber:client'>", limits).is_err());
    assert!(framed::parse_message(b"<a xmlns='x'/><b xmlns='x'/>", limits).is_err());
    assert!(framed::parse_message(b"text", limits).is_err());
    assert!(framed::parse_message(b"", limits).is_err());
    let small = Limits {
        max_stanza_bytes: 64,
        ..limits
    };
    let big = format!(
        "<message xmlns='jabber:client'><body>{}</body></message>",
        "x".repeat(100)
    );
    assert!(framed::parse_message(big.as_bytes(), small).is_err());
}
