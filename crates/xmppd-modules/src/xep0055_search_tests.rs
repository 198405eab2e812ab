use super::*;

fn el(xml: &str) -> Element {
    xml.parse().unwrap()
}

#[test]
fn only_a_public_vcard_is_listed() {
    let public =
        el("<vCard xmlns='vcard-temp'><NICKNAME>Bobby</NICKNAME><CLASS><PUBLIC/></CLASS></vCard>");
    assert_eq!(listing(&public, "bob").as_deref(), Some("Bobby"));
    let private =
        el("<vCard xmlns='vcard-temp'><NICKNAME>Bobby</NICKNAME><CLASS><PRIVATE/></CLASS></vCard>");
    assert_eq!(listing(&private, "bob"), None);
    let silent = el("<vCard xmlns='vcard-temp'><NICKNAME>Bobby</NICKNAME></vCard>");
    assert_eq!(listing(&silent, "bob"), None);
    let no_nick = el("<vCard xmlns='vcard-temp'><CLASS><PUBLIC/></CLASS></vCard>");
    assert_eq!(listing(&no_nick, "bob").as_deref(), Some("bob"));
}

#[test]
fn get_answer_has_legacy_nick_and_form() {
    let xml = String::from(&Element::from(fields()));
    assert!(xml.contains("<nick"), "{xml}");
    assert!(
        xml.contains(
            "<field type='hidden' var='FORM_TYPE'><value>jabber:iq:search</value></field>"
        ),
        "{xml}"
    );
}

#[test]
fn parses_legacy_and_form_searches() {
    let legacy = parse_set(el(
        "<query xmlns='jabber:iq:search'><nick> bob </nick></query>",
    ))
    .unwrap();
    assert_eq!(
        legacy,
        Search {
            needle: "bob".into(),
            as_form: false
        }
    );
    let form = parse_set(el(
        "<query xmlns='jabber:iq:search'><x xmlns='jabber:x:data' type='submit'>\
         <field var='FORM_TYPE' type='hidden'><value>jabber:iq:search</value></field>\
         <field var='username'><value>car</value></field></x></query>",
    ))
    .unwrap();
    assert_eq!(
        form,
        Search {
            needle: "car".into(),
            as_form: true
        }
    );
}

#[test]
fn empty_or_huge_searches_are_refused() {
    let err = parse_set(el("<query xmlns='jabber:iq:search'><nick/></query>")).unwrap_err();
    assert_eq!(err, SearchError::NoCriteria);
    let long = "x".repeat(65);
    let xml = Element::builder("query", NS)
        .append(Element::builder("nick", NS).append(long.as_str()).build())
        .build();
    assert_eq!(parse_set(xml).unwrap_err(), SearchError::NoCriteria);
    assert!(matches!(
        parse_set(el(
            "<query xmlns='jabber:iq:search'><x xmlns='jabber:x:data' type='sideways'/></query>"
        )),
        Err(SearchError::Malformed(_))
    ));
}

#[test]
fn answers_serialise_as_items_or_table() {
    let found = vec![(
        BareJid::new("bob@example.test").unwrap(),
        "Bobby".to_owned(),
    )];
    let legacy = String::from(&Element::from(answer(found.clone(), false)));
    assert_eq!(
        legacy,
        "<query xmlns='jabber:iq:search'><item jid='bob@example.test'><nick>Bobby</nick></item></query>"
    );
    let table = String::from(&Element::from(answer(found, true)));
    assert!(table.contains("<reported>"), "{table}");
    assert!(
        table.contains(
            "<item><field type='jid-single' var='jid'><value>bob@example.test</value></field>"
        ),
        "{table}"
    );
}
