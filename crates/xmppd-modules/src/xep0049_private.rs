//! XEP-0049: Private XML Storage. One child element per request, keyed by its name and
//! namespace; only the owner may read or write it.

use jid::BareJid;
use minidom::Element;
use xmpp_parsers::ns;

use crate::Error;

/// The storage key: the child's namespace and element name (§2).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// The child's namespace.
    pub namespace: String,
    /// The child's local name.
    pub name: String,
}

impl Key {
    fn of(element: &Element) -> Key {
        Key {
            namespace: element.ns(),
            name: element.name().to_owned(),
        }
    }
}

/// A validated private storage request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Read the data stored under the key; the element is the (usually empty) one sent.
    Get(Key, Element),
    /// Replace the data stored under the key with this element.
    Set(Key, Element),
}

/// Namespaces no client may store into (§3: `jabber:*` is reserved, which covers
/// `jabber:iq:private` itself, and so the case of a child without its own namespace).
fn reserved(namespace: &str) -> bool {
    namespace.starts_with("jabber:")
}

/// Validate a get (`is_set == false`) or set from `requester` for `owner`'s storage.
pub fn parse(
    requester: &BareJid,
    owner: &BareJid,
    is_set: bool,
    payload: Element,
) -> Result<Request, Error> {
    if requester != owner {
        return Err(Error::PrivateOtherAccount);
    }
    if !payload.is("query", ns::PRIVATE) {
        return Err(Error::unexpected_element(
            "jabber:iq:private query",
            &payload,
        ));
    }
    let mut children = payload.children();
    let (Some(child), None) = (children.next(), children.next()) else {
        return Err(Error::PrivateChildCount(payload.children().count()));
    };
    if reserved(&child.ns()) {
        return Err(Error::PrivateReservedNamespace(child.ns()));
    }
    let key = Key::of(child);
    Ok(if is_set {
        Request::Set(key, child.clone())
    } else {
        Request::Get(key, child.clone())
    })
}

/// The result payload of a get: the stored element, or the empty element that was asked for
/// when nothing is stored (§2, "no data" case).
pub fn answer_get(asked: Element, stored: Option<Element>) -> Element {
    Element::builder("query", ns::PRIVATE)
        .append(stored.unwrap_or(asked))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn juliet() -> BareJid {
        BareJid::new("juliet@capulet.com").unwrap()
    }

    fn request(is_set: bool, xml: &str) -> Result<Request, Error> {
        parse(&juliet(), &juliet(), is_set, xml.parse().unwrap())
    }

    #[test]
    fn parses_get_and_set() {
        let get = request(
            false,
            "<query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/></query>",
        );
        let Ok(Request::Get(key, _)) = get else {
            panic!("{get:?}")
        };
        assert_eq!(
            key,
            Key {
                namespace: "exodus:prefs".into(),
                name: "exodus".into()
            }
        );
        let set = request(
            true,
            "<query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'>\
                                 <defaultnick>Hamlet</defaultnick></exodus></query>",
        );
        let Ok(Request::Set(_, element)) = set else {
            panic!("{set:?}")
        };
        assert_eq!(
            element
                .get_child("defaultnick", "exodus:prefs")
                .unwrap()
                .text(),
            "Hamlet"
        );
    }

    #[test]
    fn serialises_stored_or_empty_answer() {
        let asked: Element = "<exodus xmlns='exodus:prefs'/>".parse().unwrap();
        assert_eq!(
            String::from(&answer_get(asked.clone(), None)),
            "<query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/></query>"
        );
        let stored: Element = "<exodus xmlns='exodus:prefs'><a>1</a></exodus>"
            .parse()
            .unwrap();
        assert_eq!(
            String::from(&answer_get(asked, Some(stored))),
            "<query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'><a>1</a></exodus></query>"
        );
    }

    #[test]
    fn refuses_bad_requests_with_exact_errors() {
        assert_eq!(
            request(true, "<query xmlns='jabber:iq:private'/>"),
            Err(Error::PrivateChildCount(0))
        );
        assert_eq!(
            request(
                true,
                "<query xmlns='jabber:iq:private'><a xmlns='x'/><b xmlns='x'/></query>"
            ),
            Err(Error::PrivateChildCount(2))
        );
        assert_eq!(
            request(false, "<query xmlns='jabber:iq:private'><roster/></query>"),
            Err(Error::PrivateReservedNamespace("jabber:iq:private".into()))
        );
        assert_eq!(
            request(
                false,
                "<query xmlns='jabber:iq:private'><x xmlns='jabber:x:data'/></query>"
            ),
            Err(Error::PrivateReservedNamespace("jabber:x:data".into()))
        );
        let romeo = BareJid::new("romeo@montague.net").unwrap();
        let other = parse(
            &romeo,
            &juliet(),
            false,
            "<query xmlns='jabber:iq:private'><a xmlns='x'/></query>"
                .parse()
                .unwrap(),
        );
        assert_eq!(other, Err(Error::PrivateOtherAccount));
        assert_eq!(
            request(false, "<storage xmlns='storage:bookmarks'/>")
                .unwrap_err()
                .to_string(),
            "malformed jabber:iq:private query payload: unexpected element storage in namespace storage:bookmarks"
        );
    }

    proptest! {
        /// Any element in a non-reserved namespace is accepted and keyed by name and namespace.
        #[test]
        fn keys_follow_the_child(name in "[a-z][a-z0-9]{0,8}", ns in "urn:[a-z]{1,8}") {
            let child = Element::builder(name.clone(), ns.clone()).build();
            let query = Element::builder("query", ns::PRIVATE).append(child).build();
            let parsed = parse(&juliet(), &juliet(), false, query).unwrap();
            let Request::Get(key, _) = parsed else { panic!("a get") };
            prop_assert_eq!(key, Key { namespace: ns, name });
        }
    }
}
