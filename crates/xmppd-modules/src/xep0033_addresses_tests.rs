use super::*;

fn message(addresses: &str) -> Element {
    format!(
        "<message xmlns='jabber:client' to='example.test'>\
         <addresses xmlns='http://jabber.org/protocol/address'>{addresses}</addresses>\
         <body>hi</body></message>"
    )
    .parse()
    .unwrap()
}

fn local(jid: &Jid) -> bool {
    jid.domain().as_str() == "example.test"
}

fn kinds(copy: &Copy) -> Vec<(Kind, String, bool)> {
    copy.addresses
        .addresses
        .iter()
        .map(|a| (a.kind, a.jid.clone().unwrap_or_default(), a.is_delivered()))
        .collect()
}

#[test]
fn to_cc_and_bcc_each_get_one_copy_with_bcc_hidden() {
    let parsed = parse(&message(
        "<address type='to' jid='a@example.test'/>\
         <address type='cc' jid='b@example.test'/>\
         <address type='bcc' jid='c@example.test'/>\
         <address type='replyto' jid='r@example.test'/>",
    ))
    .unwrap();
    let copies = fan_out(parsed, local).unwrap();
    let to: Vec<String> = copies.iter().map(|c| c.to.to_string()).collect();
    assert_eq!(to, ["a@example.test", "b@example.test", "c@example.test"]);
    let shared = vec![
        (Kind::To, "a@example.test".to_owned(), true),
        (Kind::Cc, "b@example.test".to_owned(), true),
        (Kind::ReplyTo, "r@example.test".to_owned(), false),
    ];
    assert_eq!(kinds(&copies[0]), shared);
    assert_eq!(kinds(&copies[1]), shared);
    let mut bcc = shared.clone();
    bcc.push((Kind::Bcc, "c@example.test".to_owned(), true));
    assert_eq!(kinds(&copies[2]), bcc);
}

#[test]
fn serialises_delivered_and_keeps_extensions() {
    let parsed = parse(&message(
        "<address type='to' jid='a@example.test'><x xmlns='urn:ext'/></address>",
    ))
    .unwrap();
    let copy = fan_out(parsed, local).unwrap().remove(0);
    assert_eq!(
        String::from(&Element::from(copy.addresses)),
        "<addresses xmlns='http://jabber.org/protocol/address'>\
         <address delivered='true' jid='a@example.test' type='to'><x xmlns='urn:ext'/></address></addresses>"
    );
}

#[test]
fn already_delivered_and_duplicates_are_skipped() {
    let parsed = parse(&message(
        "<address type='to' jid='a@example.test' delivered='true'/>\
         <address type='cc' jid='b@example.test'/>\
         <address type='bcc' jid='b@example.test'/>",
    ))
    .unwrap();
    let copies = fan_out(parsed, local).unwrap();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].to.to_string(), "b@example.test");
}

#[test]
fn refuses_remote_uri_only_and_too_many() {
    let remote = parse(&message("<address type='to' jid='a@elsewhere.test'/>")).unwrap();
    let err = fan_out(remote, local).unwrap_err();
    assert_eq!(
        err,
        AddressingError::NotDeliverable("a@elsewhere.test".into())
    );
    assert_eq!(err.condition().1, DefinedCondition::Forbidden);
    let uri = parse(&message("<address type='to' uri='mailto:a@example.test'/>")).unwrap();
    assert_eq!(
        fan_out(uri, local).unwrap_err().condition().1,
        DefinedCondition::JidMalformed
    );
    let many: String = (0..=MAX_ADDRESSES)
        .map(|i| format!("<address type='to' jid='u{i}@example.test'/>"))
        .collect();
    let err = parse(&message(&many)).unwrap_err();
    assert_eq!(err, AddressingError::TooMany);
    assert_eq!(err.condition().1, DefinedCondition::NotAcceptable);
}

#[test]
fn bad_input_is_malformed() {
    let err = parse(&message("<address type='sideways' jid='a@example.test'/>")).unwrap_err();
    assert!(matches!(err, AddressingError::Malformed(_)), "{err:?}");
    let none: Element = "<message xmlns='jabber:client'><body>x</body></message>"
        .parse()
        .unwrap();
    assert!(matches!(parse(&none), Err(AddressingError::Malformed(_))));
}
