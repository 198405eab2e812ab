use super::*;
use minidom::Element;

fn info(xml: &str) -> DiscoInfoResult {
    DiscoInfoResult::try_from(xml.parse::<Element>().unwrap()).unwrap()
}

const SIMPLE: &str = "<query xmlns='http://jabber.org/protocol/disco#info'>\
    <identity category='client' name='Exodus 0.9.1' type='pc'/>\
    <feature var='http://jabber.org/protocol/caps'/>\
    <feature var='http://jabber.org/protocol/disco#info'/>\
    <feature var='http://jabber.org/protocol/disco#items'/>\
    <feature var='http://jabber.org/protocol/muc'/></query>";

// Fields deliberately out of order: the hash must sort them (§5.1 step 7).
const COMPLEX: &str = "<query xmlns='http://jabber.org/protocol/disco#info'>\
    <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>\
    <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>\
    <feature var='http://jabber.org/protocol/caps'/>\
    <feature var='http://jabber.org/protocol/disco#info'/>\
    <feature var='http://jabber.org/protocol/disco#items'/>\
    <feature var='http://jabber.org/protocol/muc'/>\
    <x xmlns='jabber:x:data' type='result'>\
      <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>\
      <field var='os_version'><value>10.5.1</value></field>\
      <field var='ip_version'><value>ipv6</value><value>ipv4</value></field>\
      <field var='os'><value>Mac</value></field>\
      <field var='software'><value>Psi</value></field>\
      <field var='software_version'><value>0.11</value></field>\
    </x></query>";

#[test]
fn simple_example_of_xep_0115() {
    let info = info(SIMPLE);
    assert_eq!(
        verification_string(&info).unwrap(),
        "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<\
         http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<\
         http://jabber.org/protocol/muc<"
    );
    assert_eq!(ver(&info).unwrap(), "QgayPKawpkPSDYmwT/WM94uAlu0=");
}

#[test]
fn complex_example_of_xep_0115() {
    let info = info(COMPLEX);
    assert_eq!(
        verification_string(&info).unwrap(),
        "client/pc/el/Ψ 0.11<client/pc/en/Psi 0.11<http://jabber.org/protocol/caps<\
         http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<\
         http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<ip_version<ipv4<ipv6<\
         os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<"
    );
    assert_eq!(ver(&info).unwrap(), "q07IKJEyjvHSyhy//CH0CxmKi8w=");
}

#[test]
fn serialises_the_c_element() {
    let c = Element::from(caps(NODE, &info(SIMPLE)).unwrap());
    assert_eq!(
        String::from(&c),
        "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
         node='https://github.com/xmppd/xmppd' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>"
    );
}

#[test]
fn refuses_ill_formed_info() {
    let dup = info(
        "<query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='server' type='im'/><identity category='server' type='im'/></query>",
    );
    assert_eq!(
        ver(&dup),
        Err(Error::CapsIllFormed(
            "duplicate identity server/im//".into()
        ))
    );
    let two_forms = info(
        "<query xmlns='http://jabber.org/protocol/disco#info'>\
         <x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'>\
         <value>urn:example</value></field></x>\
         <x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'>\
         <value>urn:example</value></field></x></query>",
    );
    assert_eq!(
        ver(&two_forms),
        Err(Error::CapsIllFormed(
            "duplicate FORM_TYPE urn:example".into()
        ))
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use xmpp_parsers::data_forms::{DataFormType, Field, FieldType};
    use xmpp_parsers::disco::Identity;

    fn build(identities: &[(String, String)], fields: &[(String, Vec<String>)]) -> DiscoInfoResult {
        let fields = fields
            .iter()
            .map(|(var, values)| {
                let mut field = Field::new(var, FieldType::TextMulti);
                field.values = values.clone();
                field
            })
            .collect();
        DiscoInfoResult {
            node: None,
            identities: identities
                .iter()
                .map(|(c, t)| Identity {
                    category: c.clone(),
                    type_: t.clone(),
                    lang: None,
                    name: None,
                })
                .collect(),
            features: ["urn:a", "urn:b"].into_iter().map(str::to_owned).collect(),
            extensions: vec![DataForm::new(DataFormType::Result_, "urn:form", fields)],
        }
    }

    proptest! {
        /// The hash does not depend on the order identities, fields or values are listed in,
        /// and survives a serialise/parse round trip of the disco#info.
        #[test]
        fn ver_is_order_independent(
            identities in prop::collection::btree_set(("[a-z]{1,6}", "[a-z]{1,6}"), 1..4),
            fields in prop::collection::btree_map("[a-z]{1,6}", prop::collection::vec("[a-z0-9]{0,6}", 0..3), 0..4),
        ) {
            let identities: Vec<_> = identities.into_iter().collect();
            let fields: Vec<_> = fields.into_iter().collect();
            let forward = build(&identities, &fields);
            let mut rev_identities = identities.clone();
            rev_identities.reverse();
            let mut rev_fields: Vec<_> = fields
                .iter()
                .map(|(var, values)| (var.clone(), values.iter().rev().cloned().collect()))
                .collect();
            rev_fields.reverse();
            let backward = build(&rev_identities, &rev_fields);
            let ver = ver(&forward).unwrap();
            prop_assert_eq!(&ver, &super::ver(&backward).unwrap());
            let reparsed = DiscoInfoResult::try_from(Element::from(forward)).unwrap();
            prop_assert_eq!(ver, super::ver(&reparsed).unwrap());
        }
    }
}
