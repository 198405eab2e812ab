use super::*;
use xmpp_parsers::data_forms::{DataFormType, Field};

fn registry() -> Registry {
    let mut r = Registry::new("xmppd");
    r.add_server_feature(ns::PING)
        .add_server_feature(ns::VERSION)
        .add_account_feature(ns::MAM)
        .add_server_item(Jid::new("muc.example.com").unwrap(), Some("Chatrooms"))
        .add_server_form(DataForm::new(
            DataFormType::Result_,
            "http://jabber.org/network/serverinfo",
            vec![
                Field::new("abuse-addresses", Default::default())
                    .with_value("mailto:abuse@example.com"),
            ],
        ));
    r
}

#[test]
fn parses_queries_with_and_without_node() {
    let q = parse_info_query(
        "<query xmlns='http://jabber.org/protocol/disco#info' node='n'/>"
            .parse()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(q.node.as_deref(), Some("n"));
    let q = parse_items_query(
        "<query xmlns='http://jabber.org/protocol/disco#items'/>"
            .parse()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(q.node, None);
}

#[test]
fn refuses_malformed_queries_and_unknown_nodes() {
    let err = parse_info_query("<query xmlns='urn:other'/>".parse().unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed disco#info query payload: expected different XML element (got query in namespace urn:other)"
    );
    assert_eq!(
        registry().server_items(Some("x")).unwrap_err(),
        Error::DiscoUnknownNode("x".into())
    );
    assert_eq!(
        registry().server_info(Some("x")).unwrap_err(),
        Error::DiscoUnknownNode("x".into())
    );
}

#[test]
fn serialises_server_info_with_extended_form() {
    let info = Element::from(registry().server_info(None).unwrap());
    let xml = String::from(&info);
    assert!(
        xml.starts_with(
            "<query xmlns='http://jabber.org/protocol/disco#info'>\
        <identity category='server' name='xmppd' type='im'/>"
        ),
        "{xml}"
    );
    for var in [ns::DISCO_INFO, ns::DISCO_ITEMS, ns::PING, ns::VERSION] {
        assert!(
            info.children()
                .any(|c| c.is("feature", ns::DISCO_INFO) && c.attr("var") == Some(var)),
            "{var}"
        );
    }
    assert!(
        !xml.contains(ns::MAM),
        "account features stay off the server"
    );
    assert!(info.has_child("x", ns::DATA_FORMS));
}

#[test]
fn caps_node_is_answered_and_items_list_services() {
    let r = registry();
    let node = r.caps_node_ver().unwrap();
    assert_eq!(
        r.server_info(Some(&node)).unwrap().node.as_deref(),
        Some(node.as_str())
    );
    assert_eq!(
        node.split_once('#').unwrap().1,
        xep0115_caps::ver(&r.server_info(None).unwrap()).unwrap()
    );
    let items = Element::from(r.server_items(None).unwrap());
    assert_eq!(
        String::from(&items),
        "<query xmlns='http://jabber.org/protocol/disco#items'>\
         <item jid='muc.example.com' name='Chatrooms'/></query>"
    );
    let account = r.account_info(None).unwrap();
    assert_eq!(account.identities[0].category, "account");
    assert!(account.features.contains(ns::MAM));
}

#[test]
fn builtin_features_follow_the_registration_policy() {
    let mut closed = Registry::new("xmppd");
    closed.add_builtin_features(false);
    let info = closed.server_info(None).unwrap();
    assert!(info.features.contains(ns::PING) && info.features.contains(FEATURE_OFFLINE));
    assert!(!info.features.contains(ns::REGISTER));
    let mut open = Registry::new("xmppd");
    open.add_builtin_features(true);
    assert!(
        open.server_info(None)
            .unwrap()
            .features
            .contains(ns::REGISTER)
    );
    assert_ne!(
        open.caps_node_ver().unwrap(),
        closed.caps_node_ver().unwrap()
    );
}
