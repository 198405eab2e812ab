use super::*;
use minidom::Element;

fn query(xml: &str) -> Query {
    Query::try_from(xml.parse::<Element>().unwrap()).unwrap()
}

fn message(xml: &str) -> Message {
    Message::try_from(xml.parse::<Element>().unwrap()).unwrap()
}

const FORM: &str = "<x xmlns='jabber:x:data' type='submit'>\
    <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>\
    <field var='with'><value>juliet@capulet.lit/balcony</value></field>\
    <field var='start'><value>2010-06-07T00:00:00Z</value></field>\
    <field var='end'><value>2010-07-07T13:23:54Z</value></field></x>";

#[test]
fn parses_filters_and_paging() {
    let q = query(&format!(
        "<query xmlns='urn:xmpp:mam:2' queryid='f27'>{FORM}\
         <set xmlns='http://jabber.org/protocol/rsm'><max>500</max><after>abc</after></set></query>"
    ));
    let parsed = parse_query(q, 100).unwrap();
    assert_eq!(parsed.queryid.as_deref(), Some("f27"));
    assert_eq!(parsed.with.unwrap().as_str(), "juliet@capulet.lit");
    assert_eq!(
        parsed.start.unwrap().to_rfc3339(),
        "2010-06-07T00:00:00+00:00"
    );
    assert_eq!(
        parsed.end.unwrap().to_rfc3339(),
        "2010-07-07T13:23:54+00:00"
    );
    assert_eq!(parsed.page, Page::After("abc".into()));
    assert_eq!(parsed.max, 100, "capped by the server's page limit");
    assert!(!parsed.flip);
}

#[test]
fn parses_last_page_and_defaults() {
    let q = query(
        "<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>\
         <max>10</max><before/></set><flip-page/></query>",
    );
    let parsed = parse_query(q, 50).unwrap();
    assert_eq!(
        (parsed.page, parsed.max, parsed.flip),
        (Page::Newest, 10, true)
    );
    let plain = parse_query(query("<query xmlns='urn:xmpp:mam:2'/>"), 50).unwrap();
    assert_eq!(
        (plain.page, plain.max, plain.with),
        (Page::Oldest, 50, None)
    );
    let before = query(
        "<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>\
         <before>xyz</before></set></query>",
    );
    assert_eq!(
        parse_query(before, 50).unwrap().page,
        Page::Before("xyz".into())
    );
}

#[test]
fn rejects_bad_and_unknown_fields() {
    let with_field = |var: &str, value: &str| {
        query(&format!(
            "<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>\
             <field var='{var}'><value>{value}</value></field></x></query>"
        ))
    };
    assert_eq!(
        parse_query(with_field("start", "yesterday"), 10)
            .unwrap_err()
            .condition()
            .1,
        xmpp_parsers::stanza_error::DefinedCondition::BadRequest
    );
    assert_eq!(
        parse_query(with_field("ids", "a"), 10).unwrap_err(),
        Error::MamUnsupportedField("ids".into())
    );
    assert!(matches!(
        parse_query(with_field("with", "@@"), 10),
        Err(Error::MamBadField { .. })
    ));
}

#[test]
fn archivable_messages() {
    assert!(is_archivable(&message(
        "<message xmlns='jabber:client' type='chat'><body>hi</body></message>"
    )));
    assert!(!is_archivable(&message(
        "<message xmlns='jabber:client' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>"
    )));
    assert!(!is_archivable(&message(
        "<message xmlns='jabber:client' type='error'><body>hi</body></message>"
    )));
    assert!(!is_archivable(&message(
        "<message xmlns='jabber:client' type='chat'><body>hi</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>"
    )));
}

#[test]
fn serialises_result_and_fin() {
    let owner: BareJid = "romeo@montague.lit".parse().unwrap();
    let to: FullJid = "romeo@montague.lit/orchard".parse().unwrap();
    let stored = DateTime::parse_from_rfc3339("2010-07-10T23:08:25Z")
        .unwrap()
        .with_timezone(&Utc);
    let inner = message(
        "<message xmlns='jabber:client' to='juliet@capulet.lit' type='chat'><body>Hail</body></message>",
    );
    let out: Element = result_message(
        &owner,
        &to,
        Some("q1"),
        "28482-98726-73623".into(),
        stored,
        inner,
    )
    .into();
    let result = out.get_child("result", NS).unwrap();
    assert_eq!(result.attr("queryid"), Some("q1"));
    assert_eq!(result.attr("id"), Some("28482-98726-73623"));
    let forwarded = result
        .get_child("forwarded", xmpp_parsers::ns::FORWARD)
        .unwrap();
    let delay = forwarded
        .get_child("delay", xmpp_parsers::ns::DELAY)
        .unwrap();
    assert_eq!(delay.attr("stamp"), Some("2010-07-10T23:08:25+00:00"));
    assert!(forwarded.get_child("message", "jabber:client").is_some());
    assert_eq!(out.attr("from"), Some("romeo@montague.lit"));
    assert_eq!(out.attr("to"), Some("romeo@montague.lit/orchard"));

    let fin: Element = fin(true, Some("a".into()), Some("b".into()), 12).into();
    assert_eq!(fin.attr("complete"), Some("true"));
    let set = fin.get_child("set", xmpp_parsers::ns::RSM).unwrap();
    assert_eq!(
        set.get_child("first", xmpp_parsers::ns::RSM)
            .unwrap()
            .text(),
        "a"
    );
    assert_eq!(
        set.get_child("last", xmpp_parsers::ns::RSM).unwrap().text(),
        "b"
    );
    assert_eq!(
        set.get_child("count", xmpp_parsers::ns::RSM)
            .unwrap()
            .text(),
        "12"
    );
}

#[test]
fn stanza_id_replaces_forged_ones_only() {
    let by: BareJid = "juliet@capulet.lit".parse().unwrap();
    let mut m = message(
        "<message xmlns='jabber:client'><body>x</body>\
         <stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='juliet@capulet.lit'/>\
         <stanza-id xmlns='urn:xmpp:sid:0' id='theirs' by='room@muc.lit'/></message>",
    );
    stamp_stanza_id(&mut m, &by, "real");
    let ids: Vec<String> = m
        .payloads
        .iter()
        .filter_map(|p| StanzaId::try_from(p.clone()).ok())
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["theirs", "real"]);
}

#[test]
fn preferences_decide() {
    let jid = |s: &str| Jid::new(s).unwrap();
    let prefs = Prefs {
        default_: DefaultPrefs::Roster,
        always: vec![jid("friend@x.lit")],
        never: vec![jid("spy@x.lit"), jid("friend@x.lit/secret")],
    };
    assert!(should_archive(&prefs, &jid("friend@x.lit/phone"), false));
    assert!(!should_archive(&prefs, &jid("friend@x.lit/secret"), true));
    assert!(!should_archive(&prefs, &jid("spy@x.lit/a"), true));
    assert!(should_archive(&prefs, &jid("contact@x.lit"), true));
    assert!(!should_archive(&prefs, &jid("stranger@x.lit"), false));
    assert!(!should_archive(
        &default_prefs(DefaultPrefs::Never),
        &jid("a@b.lit"),
        true
    ));
    assert!(should_archive(
        &default_prefs(DefaultPrefs::Always),
        &jid("a@b.lit"),
        false
    ));
}
