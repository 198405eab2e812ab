use super::*;

fn el(xml: &str) -> Element {
    xml.parse().unwrap()
}

const LIST: &str = "<list xmlns='jabber:iq:privacy' name='public'>\
    <item type='jid' value='tybalt@example.com' action='deny' order='3'/>\
    <item type='group' value='Friends' action='allow' order='1'><message/></item>\
    <item type='subscription' value='none' action='deny' order='5'><presence-out/></item>\
    <item action='allow' order='9'/></list>";

#[test]
fn parses_and_serialises_a_list() {
    let list = parse_list(&el(LIST)).unwrap();
    assert_eq!(list.name, "public");
    assert_eq!(
        list.items.iter().map(|i| i.order).collect::<Vec<_>>(),
        [1, 3, 5, 9]
    );
    assert_eq!(list.items[0].matches, Match::Group("Friends".into()));
    assert_eq!(list.items[0].kinds, [Kind::Message]);
    assert_eq!(
        list.items[2].matches,
        Match::Subscription(Subscription::None)
    );
    assert_eq!(list.items[3].matches, Match::All);
    let back = parse_list(&list_element(&list)).unwrap();
    assert_eq!(back, list);
    assert!(needs_roster(&list));
}

#[test]
fn rejects_bad_lists() {
    let bad = |xml: &str| parse_list(&el(xml)).unwrap_err();
    assert!(matches!(
        bad("<list xmlns='jabber:iq:privacy'/>"),
        Error::PrivacyBadRequest(_)
    ));
    assert!(matches!(
        bad("<list xmlns='jabber:iq:privacy' name='a'><item action='deny'/></list>"),
        Error::PrivacyBadRequest(_)
    ));
    assert!(matches!(
        bad("<list xmlns='jabber:iq:privacy' name='a'><item action='maybe' order='1'/></list>"),
        Error::PrivacyBadRequest(_)
    ));
    assert!(matches!(
        bad(
            "<list xmlns='jabber:iq:privacy' name='a'><item action='deny' order='1'/><item action='allow' order='1'/></list>"
        ),
        Error::PrivacyBadRequest(_)
    ));
    assert!(matches!(
        bad(
            "<list xmlns='jabber:iq:privacy' name='a'><item type='subscription' value='maybe' action='deny' order='1'/></list>"
        ),
        Error::PrivacyBadRequest(_)
    ));
}

#[test]
fn first_matching_item_decides_per_kind() {
    let list = parse_list(&el(LIST)).unwrap();
    let tybalt = Jid::new("tybalt@example.com/r").unwrap();
    let friend = Jid::new("nurse@example.com").unwrap();
    let groups = ["Friends".to_owned()];
    let c = |jid, groups, subscription| Contact {
        jid,
        groups,
        subscription,
    };
    assert_eq!(
        decide(&list, &c(&tybalt, &[], Subscription::Both), Kind::Iq),
        Action::Deny
    );
    // Tybalt in Friends: the group item comes first, but only for messages.
    assert_eq!(
        decide(
            &list,
            &c(&tybalt, &groups, Subscription::Both),
            Kind::Message
        ),
        Action::Allow
    );
    assert_eq!(
        decide(
            &list,
            &c(&tybalt, &groups, Subscription::Both),
            Kind::PresenceIn
        ),
        Action::Deny
    );
    assert_eq!(
        decide(
            &list,
            &c(&friend, &[], Subscription::None),
            Kind::PresenceOut
        ),
        Action::Deny
    );
    assert_eq!(
        decide(
            &list,
            &c(&friend, &[], Subscription::None),
            Kind::PresenceIn
        ),
        Action::Allow
    );
    let empty = List {
        name: "e".into(),
        items: vec![],
    };
    assert_eq!(
        decide(&empty, &c(&friend, &[], Subscription::None), Kind::Message),
        Action::Allow
    );
}

#[test]
fn parses_requests() {
    let q = |inner: &str| el(&format!("<query xmlns='jabber:iq:privacy'>{inner}</query>"));
    assert_eq!(parse(&q(""), false), Ok(Request::Names));
    assert_eq!(
        parse(&q("<list name='x'/>"), false),
        Ok(Request::Get("x".into()))
    );
    assert_eq!(
        parse(&q("<active name='x'/>"), true),
        Ok(Request::SetActive(Some("x".into())))
    );
    assert_eq!(parse(&q("<default/>"), true), Ok(Request::SetDefault(None)));
    assert_eq!(
        parse(&q("<list name='x'/>"), true),
        Ok(Request::Remove("x".into()))
    );
    assert!(matches!(parse(&q(LIST), true), Ok(Request::Edit(_))));
    assert!(parse(&q("<active/><default/>"), true).is_err());
}

#[test]
fn names_answer_lists_everything() {
    let answer = names_answer(&["a".into(), "b".into()], Some("a"), None);
    assert_eq!(
        answer.get_child("active", NS).unwrap().attr("name"),
        Some("a")
    );
    assert!(answer.get_child("default", NS).is_none());
    assert_eq!(answer.children().filter(|c| c.is("list", NS)).count(), 2);
    assert_eq!(
        push("a").get_child("list", NS).unwrap().attr("name"),
        Some("a")
    );
}
