use super::*;

fn el(xml: &str) -> Element {
    xml.parse().unwrap()
}

const OPTIONS: &str = "<x xmlns='jabber:x:data' type='submit'>\
    <field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
    <field var='secret'><value>s3cret</value></field></x>";

#[test]
fn enable_keeps_node_and_form() {
    let payload = el(&format!(
        "<enable xmlns='urn:xmpp:push:0' jid='push.example' node='dev1'>{OPTIONS}</enable>"
    ));
    let Ok(Request::Enable { jid, node, form }) = parse(payload, 4096) else {
        panic!("enable expected");
    };
    assert_eq!(jid.to_string(), "push.example");
    assert_eq!(node, "dev1");
    let form = DataForm::try_from(el(&form.unwrap())).unwrap();
    assert_eq!(form.fields[1].values, vec!["s3cret".to_owned()]);
}

#[test]
fn enable_refusals() {
    let no_node = el("<enable xmlns='urn:xmpp:push:0' jid='push.example'/>");
    assert_eq!(parse(no_node, 4096), Err(Error::PushMissingNode));
    let big = el(&format!(
        "<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n'>{OPTIONS}</enable>"
    ));
    assert!(matches!(
        parse(big, 64),
        Err(Error::PushFormTooLarge { max: 64, .. })
    ));
    let bad_jid = el("<enable xmlns='urn:xmpp:push:0' jid='a@b@c' node='n'/>");
    assert!(matches!(
        parse(bad_jid, 4096),
        Err(Error::ParsePayload { .. })
    ));
    let no_jid = el("<disable xmlns='urn:xmpp:push:0'/>");
    assert!(matches!(
        parse(no_jid, 4096),
        Err(Error::ParsePayload { .. })
    ));
    let full = el("<enable xmlns='urn:xmpp:push:0' jid='app@example.test/pushd' node='n'/>");
    assert!(
        matches!(parse(full, 4096), Ok(Request::Enable { jid, .. }) if jid.resource().is_some())
    );
    let other = el("<query xmlns='urn:xmpp:push:0'/>");
    assert!(matches!(
        parse(other, 4096),
        Err(Error::ParsePayload { .. })
    ));
}

#[test]
fn disable_with_and_without_node() {
    let one = el("<disable xmlns='urn:xmpp:push:0' jid='push.example' node='n'/>");
    let all = el("<disable xmlns='urn:xmpp:push:0' jid='push.example'/>");
    let jid = Jid::new("push.example").unwrap();
    assert_eq!(
        parse(one, 4096),
        Ok(Request::Disable {
            jid: jid.clone(),
            node: Some("n".into())
        })
    );
    assert_eq!(parse(all, 4096), Ok(Request::Disable { jid, node: None }));
}

#[test]
fn notification_has_summary_and_options_but_no_body() {
    let user = BareJid::new("juliet@example.test").unwrap();
    let summary = Summary {
        message_count: 3,
        last_message_sender: Some(Jid::new("romeo@example.test/phone").unwrap()),
    };
    let iq = notification(
        "p1".into(),
        &user,
        Jid::new("push.example").unwrap(),
        "dev1",
        &summary,
        Some(OPTIONS),
    );
    let iq = Element::from(iq);
    assert_eq!(iq.attr("type"), Some("set"));
    assert_eq!(iq.attr("from"), Some("juliet@example.test"));
    assert_eq!(iq.attr("to"), Some("push.example"));
    let pubsub = iq.get_child("pubsub", ns::PUBSUB).unwrap();
    let publish = pubsub.get_child("publish", ns::PUBSUB).unwrap();
    assert_eq!(publish.attr("node"), Some("dev1"));
    let notification = publish
        .get_child("item", ns::PUBSUB)
        .and_then(|i| i.get_child("notification", ns::PUSH))
        .unwrap();
    let form =
        DataForm::try_from(notification.get_child("x", ns::DATA_FORMS).unwrap().clone()).unwrap();
    assert_eq!(form.form_type(), Some(SUMMARY));
    let value = |var: &str| {
        form.fields
            .iter()
            .find(|f| f.var.as_deref() == Some(var))
            .map(|f| f.values.clone())
    };
    assert_eq!(value("message-count"), Some(vec!["3".to_owned()]));
    assert_eq!(
        value("last-message-sender"),
        Some(vec!["romeo@example.test/phone".to_owned()])
    );
    assert!(!String::from(&iq).contains("body"));
    let options = pubsub.get_child("publish-options", ns::PUBSUB).unwrap();
    assert!(String::from(options).contains("s3cret"));
}

#[test]
fn notification_without_options() {
    let user = BareJid::new("juliet@example.test").unwrap();
    let summary = Summary {
        message_count: 1,
        last_message_sender: None,
    };
    let jid = Jid::new("push.example").unwrap();
    let iq = Element::from(notification("p".into(), &user, jid, "n", &summary, None));
    let pubsub = iq.get_child("pubsub", ns::PUBSUB).unwrap();
    assert!(pubsub.get_child("publish-options", ns::PUBSUB).is_none());
}

#[test]
fn throttle_holds_back_and_counts() {
    let mut throttle = Throttle::new(Duration::from_secs(10));
    let t0 = Instant::now();
    assert_eq!(throttle.on_message("a", t0), Some(1));
    assert_eq!(throttle.on_message("a", t0 + Duration::from_secs(1)), None);
    assert_eq!(throttle.on_message("a", t0 + Duration::from_secs(2)), None);
    // Another registration is limited on its own.
    assert_eq!(
        throttle.on_message("b", t0 + Duration::from_secs(2)),
        Some(1)
    );
    assert_eq!(
        throttle.on_message("a", t0 + Duration::from_secs(10)),
        Some(3)
    );
    assert_eq!(throttle.on_message("a", t0 + Duration::from_secs(11)), None);
    throttle.forget(&"a");
    assert_eq!(
        throttle.on_message("a", t0 + Duration::from_secs(12)),
        Some(1)
    );
}
