use super::*;
use crate::rfc6121::subscription::State;
use proptest::prelude::*;

fn juliet() -> BareJid {
    BareJid::new("juliet@example.com").unwrap()
}

fn set(xml: &str) -> Result<RosterSet, Error> {
    parse_set(&juliet(), xml.parse().unwrap(), &Limits::default())
}

#[test]
fn parses_an_update_and_a_removal() {
    let update = set(
        "<query xmlns='jabber:iq:roster'><item jid='nurse@example.com' \
                      name='Nurse' subscription='both' ask='subscribe'><group>Servants</group>\
                      </item></query>",
    );
    assert_eq!(
        update,
        Ok(RosterSet::Update {
            jid: BareJid::new("nurse@example.com").unwrap(),
            name: Some("Nurse".into()),
            groups: vec!["Servants".into()],
        })
    );
    let remove = set(
        "<query xmlns='jabber:iq:roster'><item jid='nurse@example.com' \
                      subscription='remove'/></query>",
    );
    assert_eq!(
        remove,
        Ok(RosterSet::Remove(
            BareJid::new("nurse@example.com").unwrap()
        ))
    );
}

#[test]
fn refuses_bad_sets_with_exact_errors() {
    let two = "<query xmlns='jabber:iq:roster'><item jid='a@example.com'/>\
               <item jid='b@example.com'/></query>";
    assert_eq!(set(two), Err(Error::RosterSetItemCount(2)));
    assert_eq!(
        set("<query xmlns='jabber:iq:roster'/>"),
        Err(Error::RosterSetItemCount(0))
    );
    let own = "<query xmlns='jabber:iq:roster'><item jid='juliet@example.com'/></query>";
    assert_eq!(set(own), Err(Error::RosterSetOwnJid));
    let dup = "<query xmlns='jabber:iq:roster'><item jid='a@example.com'><group>X</group>\
               <group>X</group></item></query>";
    assert_eq!(set(dup), Err(Error::RosterSetDuplicateGroup("X".into())));
    let empty = "<query xmlns='jabber:iq:roster'><item jid='a@example.com'><group/></item></query>";
    assert_eq!(set(empty), Err(Error::RosterSetEmptyGroup));
    let mut long = Roster::try_from(
        "<query xmlns='jabber:iq:roster'><item jid='a@example.com'/></query>"
            .parse::<Element>()
            .unwrap(),
    )
    .unwrap();
    long.items[0].name = Some("n".repeat(1024));
    assert_eq!(
        validate_set(&juliet(), &long, &Limits::default()),
        Err(Error::RosterSetNameTooLong {
            len: 1024,
            max: 1023
        })
    );
    let bad = set("<query xmlns='jabber:iq:roster'><item/></query>").unwrap_err();
    assert_eq!(
        bad,
        Error::ParsePayload {
            what: "jabber:iq:roster query",
            reason: "Required attribute field 'jid' on Item element missing.".into(),
        }
    );
}

#[test]
fn conditions_match_rfc_6121_section_2_3_3() {
    use xmpp_parsers::stanza_error::DefinedCondition as C;
    assert_eq!(Error::RosterSetItemCount(2).condition().1, C::BadRequest);
    assert_eq!(Error::RosterSetOwnJid.condition().1, C::NotAllowed);
    assert_eq!(Error::RosterSetEmptyGroup.condition().1, C::NotAcceptable);
}

fn entry(state: State, approved: bool) -> Entry {
    Entry {
        jid: BareJid::new("romeo@example.net").unwrap(),
        name: Some("Romeo".into()),
        groups: vec!["Friends".into()],
        contact: ContactState { state, approved },
    }
}

#[test]
fn serialises_items_pushes_and_versioned_results() {
    let xml = String::from(&Element::from(push(
        &entry(State::FromPendingOut, false),
        "v2",
    )));
    assert_eq!(
        xml,
        "<query xmlns='jabber:iq:roster' ver='v2'><item ask='subscribe' \
         jid='romeo@example.net' name='Romeo' subscription='from'><group>Friends</group>\
         </item></query>"
    );
    let approved = Element::from(entry(State::None, true).to_item());
    assert_eq!(approved.attr("approved"), Some("true"));
    assert_eq!(
        approved.attr("subscription"),
        None,
        "none is the default and omitted"
    );
    let removal = Element::from(push_removal(&BareJid::new("a@b").unwrap(), "v3"));
    let item = removal.get_child("item", "jabber:iq:roster").unwrap();
    assert_eq!(item.attr("subscription"), Some("remove"));
    let iq = Element::from(push_iq(
        &FullJid::new("juliet@example.com/balcony").unwrap(),
        "p1",
        push_removal(&BareJid::new("a@b").unwrap(), "v3"),
    ));
    assert_eq!(iq.attr("type"), Some("set"));
    assert_eq!(iq.attr("from"), None);
}

#[test]
fn versioning_decides_between_empty_and_full_result() {
    let entries = [entry(State::Both, false)];
    assert_eq!(answer_get(Some("v7"), "v7", &entries), Option::None);
    let full = answer_get(Some("v1"), "v7", &entries).unwrap();
    assert_eq!((full.ver.as_deref(), full.items.len()), (Some("v7"), 1));
    let empty_ver = answer_get(Some(""), "v7", &entries).unwrap();
    assert_eq!(empty_ver.ver.as_deref(), Some("v7"));
    let unversioned = answer_get(Option::None, "v7", &entries).unwrap();
    assert_eq!(unversioned.ver, Option::None);
}

#[test]
fn removal_cancels_every_direction() {
    use crate::rfc6121::subscription::{Kind, PresenceToContact};
    let both = on_remove(ContactState::new(State::Both));
    assert_eq!(
        both,
        (
            vec![Kind::Unsubscribe, Kind::Unsubscribed],
            PresenceToContact::Unavailable
        )
    );
    let asked = on_remove(ContactState::new(State::NonePendingOutIn));
    assert_eq!(
        asked,
        (
            vec![Kind::Unsubscribe, Kind::Unsubscribed],
            PresenceToContact::Nothing
        )
    );
    assert_eq!(
        on_remove(ContactState::new(State::None)),
        (vec![], PresenceToContact::Nothing)
    );
    assert_eq!(
        on_remove(ContactState::new(State::To)).0,
        [Kind::Unsubscribe]
    );
}

proptest! {
    /// Any well-formed update round-trips: serialise a set, parse it back, same decision.
    #[test]
    fn update_round_trips(name in "[a-zA-Z0-9 ]{0,40}", groups in prop::collection::btree_set("[a-z]{1,12}", 0..5)) {
        let groups: Vec<String> = groups.into_iter().collect();
        let query = Roster {
            ver: Option::None,
            items: vec![Item {
                jid: BareJid::new("romeo@example.net").unwrap(),
                name: Some(name.clone()),
                subscription: Subscription::None,
                ask: Default::default(),
                groups: groups.iter().cloned().map(Group).collect(),
                approved: Option::None,
            }],
        };
        let parsed = parse_set(&juliet(), Element::from(query), &Limits::default()).unwrap();
        prop_assert_eq!(parsed, RosterSet::Update {
            jid: BareJid::new("romeo@example.net").unwrap(),
            name: Some(name),
            groups,
        });
    }
}
