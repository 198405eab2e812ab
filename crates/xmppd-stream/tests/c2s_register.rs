//! In-band registration (XEP-0077) before authentication: offered and handed to the caller
//! only over TLS and only on hosts open to it.

mod support;

use std::sync::Arc;

use support::c2s::*;
use xmppd_stream::{Action, C2s, DefinedCondition, Transport};

const REGISTER_IQ: &str = "<iq type='get' id='r1'><query xmlns='jabber:iq:register'/></iq>";
const FEATURE: &str = "<register xmlns='http://jabber.org/features/iq-register'/>";

fn open_config() -> xmppd_stream::C2sConfig {
    let mut config = config(true);
    config.registration_hosts = ["example.com".to_owned()].into();
    config
}

#[test]
fn open_host_over_tls_announces_and_hands_over_registration() {
    let mut c2s = C2s::new(Arc::new(open_config()), Transport::DirectTls(binding()));
    let (sent, _) = split(c2s.feed(OPEN.as_bytes()));
    assert!(sent.contains(FEATURE), "{sent}");
    let (sent, rest) = split(c2s.feed(REGISTER_IQ.as_bytes()));
    assert_eq!(sent, "");
    match rest.as_slice() {
        [Action::PreAuthIq(iq)] => assert_eq!(iq.attr("id"), Some("r1")),
        other => panic!("expected the registration iq, got {other:?}"),
    }
}

#[test]
fn closed_host_neither_announces_nor_accepts_registration() {
    let mut c2s = C2s::new(Arc::new(config(true)), Transport::DirectTls(binding()));
    let (sent, _) = split(c2s.feed(OPEN.as_bytes()));
    assert!(!sent.contains(FEATURE), "{sent}");
    let (sent, rest) = split(c2s.feed(REGISTER_IQ.as_bytes()));
    assert!(sent.contains("<not-authorized"), "{sent}");
    assert!(
        matches!(rest.as_slice(), [Action::Close(Some(e))] if e.condition == DefinedCondition::NotAuthorized)
    );
}

#[test]
fn registration_is_never_accepted_before_tls() {
    let mut c2s = C2s::new(Arc::new(open_config()), Transport::Plain);
    let (sent, _) = split(c2s.feed(OPEN.as_bytes()));
    assert!(!sent.contains(FEATURE), "{sent}");
    let (_, rest) = split(c2s.feed(REGISTER_IQ.as_bytes()));
    assert!(
        !rest.iter().any(|a| matches!(a, Action::PreAuthIq(_))),
        "{rest:?}"
    );
}
