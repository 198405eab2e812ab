use super::*;
use proptest::prelude::*;

fn open() -> Policy {
    Policy {
        open: true,
        instructions: "Choose a username and password.".into(),
    }
}

fn account() -> Requester {
    Requester::Account(BareJid::new("bill@shakespeare.lit").unwrap())
}

fn set(requester: &Requester, policy: &Policy, xml: &str) -> Result<Request, Error> {
    parse_set(requester, policy, xml.parse().unwrap())
}

#[test]
fn parses_registration_change_and_removal() {
    let legacy = "<query xmlns='jabber:iq:register'><username>Bill</username>\
                  <password>Calliope</password></query>";
    assert_eq!(
        set(&Requester::Anonymous, &open(), legacy),
        Ok(Request::Register {
            username: "bill".into(),
            password: "Calliope".into()
        })
    );
    let form = "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>\
                <field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>\
                <field var='username'><value>juliet</value></field>\
                <field var='password'><value>m1cro$oft</value></field></x></query>";
    assert_eq!(
        set(&Requester::Anonymous, &open(), form),
        Ok(Request::Register {
            username: "juliet".into(),
            password: "m1cro$oft".into()
        })
    );
    let change = "<query xmlns='jabber:iq:register'><username>bill</username>\
                  <password>newpass</password></query>";
    assert_eq!(
        set(&account(), &open(), change),
        Ok(Request::ChangePassword {
            password: "newpass".into()
        })
    );
    let remove = "<query xmlns='jabber:iq:register'><remove/></query>";
    assert_eq!(set(&account(), &open(), remove), Ok(Request::Remove));
}

#[test]
fn serialises_the_fields() {
    let anonymous = Element::from(fields(&Requester::Anonymous, &open()).unwrap());
    assert_eq!(
        String::from(&anonymous),
        "<query xmlns='jabber:iq:register'><instructions>Choose a username and password.\
         </instructions><username></username><password></password></query>"
    );
    let registered = Element::from(fields(&account(), &open()).unwrap());
    assert_eq!(
        String::from(&registered),
        "<query xmlns='jabber:iq:register'><registered/><username>bill</username><password></password></query>"
    );
    let form = Element::from(fields_form(&open()));
    let x = form.get_child("x", ns::DATA_FORMS).unwrap();
    assert_eq!(x.attr("type"), Some("form"));
    assert_eq!(
        x.children()
            .filter(|f| f.has_child("required", ns::DATA_FORMS))
            .count(),
        2
    );
}

#[test]
fn refuses_bad_requests_with_exact_errors() {
    let closed = Policy {
        open: false,
        instructions: String::new(),
    };
    let legacy =
        "<query xmlns='jabber:iq:register'><username>a</username><password>b</password></query>";
    assert_eq!(
        set(&Requester::Anonymous, &closed, legacy),
        Err(Error::RegisterDisabled)
    );
    assert_eq!(
        fields(&Requester::Anonymous, &closed).unwrap_err(),
        Error::RegisterDisabled
    );
    let no_password = "<query xmlns='jabber:iq:register'><username>a</username></query>";
    assert_eq!(
        set(&Requester::Anonymous, &open(), no_password),
        Err(Error::RegisterMissingField("password"))
    );
    let empty_user = "<query xmlns='jabber:iq:register'><username/><password>b</password></query>";
    assert_eq!(
        set(&Requester::Anonymous, &open(), empty_user),
        Err(Error::RegisterMissingField("username"))
    );
    let bad_user =
        "<query xmlns='jabber:iq:register'><username>a@b</username><password>b</password></query>";
    assert_eq!(
        set(&Requester::Anonymous, &open(), bad_user),
        Err(Error::RegisterBadUsername("a@b".into()))
    );
    let remove = "<query xmlns='jabber:iq:register'><remove/></query>";
    assert_eq!(
        set(&Requester::Anonymous, &open(), remove),
        Err(Error::RegisterRemoveUnauthenticated)
    );
    let other = "<query xmlns='jabber:iq:register'><username>tybalt</username><password>x</password></query>";
    assert_eq!(
        set(&account(), &open(), other),
        Err(Error::RegisterOtherAccount)
    );
    assert_eq!(
        Error::RegisterDisabled.condition().1,
        xmpp_parsers::stanza_error::DefinedCondition::NotAllowed
    );
}

proptest! {
    /// Every lowercase ASCII username with any printable password registers as given.
    #[test]
    fn legacy_fields_round_trip(user in "[a-z][a-z0-9._-]{0,20}", password in "[!-~]{1,30}") {
        let query = LegacyQuery { username: Some(user.clone()), password: Some(password.clone()), ..LegacyQuery::default() };
        let parsed = parse_set(&Requester::Anonymous, &open(), Element::from(query));
        prop_assert_eq!(parsed, Ok(Request::Register { username: user, password }));
    }
}
