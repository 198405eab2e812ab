//! XEP-0402: PEP Native Bookmarks, kept in step with XEP-0048 bookmarks in XEP-0049 private
//! XML (§5 compatibility, `urn:xmpp:bookmarks:1#compat`): a change through either is
//! written through to the other, so old and new clients of one account see the same rooms.

use jid::BareJid;
use minidom::Element;
use xmpp_parsers::bookmarks::{Conference as LegacyConference, Storage};
use xmpp_parsers::bookmarks2::Conference;

use crate::xep0060_pubsub::{AccessModel, NodeConfig, SendLast, config::MAX_ITEMS_CAP};

/// The PEP node of XEP-0402 bookmarks, one item per room, the room's JID as item id.
pub const NODE: &str = "urn:xmpp:bookmarks:1";
/// The account feature announcing the conversion (§5.3).
pub const COMPAT_FEATURE: &str = "urn:xmpp:bookmarks:1#compat";
/// The XEP-0049 namespace XEP-0048 bookmarks are stored under.
pub const LEGACY_NS: &str = "storage:bookmarks";

/// The configuration §4 requires of the node: private, persistent, as many items as allowed.
pub fn node_config() -> NodeConfig {
    NodeConfig {
        access_model: AccessModel::Whitelist,
        max_items: MAX_ITEMS_CAP,
        persist_items: true,
        send_last: SendLast::Never,
    }
}

/// One bookmark as a PEP item: the room JID (item id) and its `<conference/>` payload.
pub type BookmarkItem = (String, Element);

/// The XEP-0048 storage for these XEP-0402 items. URL bookmarks have no XEP-0402 form, so
/// those of the `previous` storage are kept.
pub fn legacy_from_items(items: &[BookmarkItem], previous: Option<Element>) -> Element {
    let urls = previous
        .and_then(|p| Storage::try_from(p).ok())
        .map(|s| s.urls)
        .unwrap_or_default();
    let conferences = items
        .iter()
        .filter_map(|(id, payload)| {
            let jid = BareJid::new(id).ok()?;
            let conference = Conference::try_from(payload.clone()).ok()?;
            Some(LegacyConference {
                autojoin: conference.autojoin,
                jid,
                name: conference.name,
                nick: conference.nick,
                password: conference.password,
            })
        })
        .collect();
    Storage { conferences, urls }.into()
}

/// The XEP-0402 items of a XEP-0048 storage element; `None` if it is not one.
pub fn items_from_legacy(storage: Element) -> Option<Vec<BookmarkItem>> {
    let storage = Storage::try_from(storage).ok()?;
    Some(
        storage
            .conferences
            .into_iter()
            .map(|c| {
                let (jid, conference) = c.into_bookmarks2();
                (jid.to_string(), Element::from(conference))
            })
            .collect(),
    )
}

/// What to change on the node so it holds `wanted`.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    pub publish: Vec<BookmarkItem>,
    pub retract: Vec<String>,
}

/// The publishes and retractions that turn `current` into `wanted`; unchanged items are left
/// alone, so clients are not notified of them.
pub fn changes(current: &[BookmarkItem], wanted: Vec<BookmarkItem>) -> Changes {
    let retract = current
        .iter()
        .filter(|(id, _)| !wanted.iter().any(|(w, _)| w == id))
        .map(|(id, _)| id.clone())
        .collect();
    let publish = wanted
        .into_iter()
        .filter(|(id, payload)| {
            !current
                .iter()
                .any(|(c, p)| c == id && String::from(p) == String::from(payload))
        })
        .collect();
    Changes { publish, retract }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy(xml: &str) -> Element {
        xml.parse().unwrap()
    }

    #[test]
    fn legacy_to_items_and_back() {
        let storage = legacy(
            "<storage xmlns='storage:bookmarks'>\
             <conference jid='room@muc.example.test' autojoin='true' name='Room'><nick>al</nick></conference>\
             <url name='site' url='https://example.test/'/></storage>",
        );
        let items = items_from_legacy(storage.clone()).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].0, "room@muc.example.test");
        let conference = Conference::try_from(items[0].1.clone()).unwrap();
        assert!(conference.autojoin);
        assert_eq!(conference.name.as_deref(), Some("Room"));
        let back = Storage::try_from(legacy_from_items(&items, Some(storage.clone()))).unwrap();
        assert_eq!(back, Storage::try_from(storage).unwrap());
    }

    #[test]
    fn not_bookmarks_is_none() {
        assert_eq!(
            items_from_legacy(legacy("<storage xmlns='storage:rosternotes'/>")),
            None
        );
    }

    #[test]
    fn changes_touch_only_what_differs() {
        let conf = |name: &str| -> Element {
            Conference {
                name: Some(name.into()),
                ..Conference::new()
            }
            .into()
        };
        let current = vec![
            ("a@m".to_owned(), conf("A")),
            ("b@m".to_owned(), conf("B")),
            ("c@m".to_owned(), conf("C")),
        ];
        let wanted = vec![
            ("a@m".to_owned(), conf("A")),
            ("b@m".to_owned(), conf("B2")),
        ];
        let diff = changes(&current, wanted);
        assert_eq!(diff.retract, ["c@m"]);
        assert_eq!(diff.publish.len(), 1);
        assert_eq!(diff.publish[0].0, "b@m");
    }
}
