//! XEP-0016: Privacy Lists (jabber:iq:privacy). The one blocking engine: a list of ordered
//! allow/deny items, evaluated per stanza kind; XEP-0191 blocklists are evaluated as a list
//! of deny-all items (see [`crate::xep0191_blocking`]). Also the typed list and the
//! get/set requests of the protocol.

use jid::Jid;
use minidom::Element;

use crate::Error;

/// The namespace.
pub const NS: &str = "jabber:iq:privacy";

/// Items per list and lists per account a user may keep (a stranger-facing limit).
pub const MAX_ITEMS: usize = 250;
/// Lists an account may keep.
pub const MAX_LISTS: usize = 20;
/// Longest list name, in bytes.
pub const MAX_NAME: usize = 256;

/// What an item does when it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Let the stanza through.
    Allow,
    /// Drop (or refuse) the stanza.
    Deny,
}

/// The subscription states an item can name (XEP-0016 §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subscription {
    /// No subscription.
    None,
    /// The user sees the contact's presence.
    To,
    /// The contact sees the user's presence.
    From,
    /// Both ways.
    Both,
}

impl Subscription {
    fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::To => "to",
            Self::From => "from",
            Self::Both => "both",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::None, Self::To, Self::From, Self::Both]
            .into_iter()
            .find(|s| s.name() == text)
    }
}

/// What an item matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    /// Everyone (an item with no type: the fall-through).
    All,
    /// A JID, with the XEP-0016 §2.1 rules: full, bare, domain/resource or domain.
    Jid(Jid),
    /// Contacts in this roster group.
    Group(String),
    /// Contacts with this subscription state.
    Subscription(Subscription),
}

/// The kinds of stanza an item applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Inbound messages.
    Message,
    /// Inbound IQs.
    Iq,
    /// Inbound presence.
    PresenceIn,
    /// Outbound presence.
    PresenceOut,
}

impl Kind {
    const ALL: [Kind; 4] = [Self::Message, Self::Iq, Self::PresenceIn, Self::PresenceOut];

    fn name(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Iq => "iq",
            Self::PresenceIn => "presence-in",
            Self::PresenceOut => "presence-out",
        }
    }
}

/// One list item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// What it matches.
    pub matches: Match,
    /// What it does.
    pub action: Action,
    /// Position; lower is evaluated first.
    pub order: u32,
    /// Stanza kinds it applies to; empty means all of them.
    pub kinds: Vec<Kind>,
}

/// A named privacy list, items in evaluation order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct List {
    /// The name.
    pub name: String,
    /// The items, sorted by `order`.
    pub items: Vec<Item>,
}

/// What the engine knows about the other party of a stanza.
#[derive(Clone, Copy, Debug)]
pub struct Contact<'a> {
    /// Its JID as seen in the stanza.
    pub jid: &'a Jid,
    /// Its roster groups in the user's roster (empty when not a contact).
    pub groups: &'a [String],
    /// The subscription state (`None` when not a contact).
    pub subscription: Subscription,
}

/// Does `pattern` match `jid` by the XEP-0016 §2.1 / XEP-0191 §3.4 rules? Parts the pattern
/// leaves out match anything.
pub fn jid_matches(pattern: &Jid, jid: &Jid) -> bool {
    pattern.domain() == jid.domain()
        && pattern.node().is_none_or(|n| jid.node() == Some(n))
        && pattern.resource().is_none_or(|r| jid.resource() == Some(r))
}

/// The first item of `list` that applies to `kind` from `contact` decides; no match allows.
pub fn decide(list: &List, contact: &Contact<'_>, kind: Kind) -> Action {
    list.items
        .iter()
        .filter(|item| item.kinds.is_empty() || item.kinds.contains(&kind))
        .find(|item| match &item.matches {
            Match::All => true,
            Match::Jid(pattern) => jid_matches(pattern, contact.jid),
            Match::Group(group) => contact.groups.iter().any(|g| g == group),
            Match::Subscription(s) => *s == contact.subscription,
        })
        .map_or(Action::Allow, |item| item.action)
}

/// Does the list ever need the contact's roster entry (group or subscription items)?
pub fn needs_roster(list: &List) -> bool {
    list.items
        .iter()
        .any(|i| matches!(i.matches, Match::Group(_) | Match::Subscription(_)))
}

fn bad(reason: impl Into<String>) -> Error {
    Error::PrivacyBadRequest(reason.into())
}

fn parse_item(el: &Element) -> Result<Item, Error> {
    let value = el.attr("value");
    let matches = match (el.attr("type"), value) {
        (None, _) => Match::All,
        (Some("jid"), Some(v)) => Match::Jid(Jid::new(v).map_err(|e| bad(e.to_string()))?),
        (Some("group"), Some(v)) => Match::Group(v.to_owned()),
        (Some("subscription"), Some(v)) => {
            Match::Subscription(Subscription::parse(v).ok_or_else(|| bad("bad subscription"))?)
        }
        (Some(other), _) => return Err(bad(format!("item type {other:?} without a valid value"))),
    };
    let action = match el.attr("action") {
        Some("allow") => Action::Allow,
        Some("deny") => Action::Deny,
        _ => return Err(bad("item action must be allow or deny")),
    };
    let order = el
        .attr("order")
        .and_then(|o| o.parse().ok())
        .ok_or_else(|| bad("item order must be a non-negative integer"))?;
    let kinds = Kind::ALL
        .into_iter()
        .filter(|k| el.has_child(k.name(), NS))
        .collect();
    Ok(Item {
        matches,
        action,
        order,
        kinds,
    })
}

/// Parses a `<list/>` element with its items (XEP-0016 §2.1), checking the limits and that
/// no two items share an order.
pub fn parse_list(el: &Element) -> Result<List, Error> {
    let name = el
        .attr("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad("list without a name"))?;
    if name.len() > MAX_NAME {
        return Err(bad("list name too long"));
    }
    let mut items = el
        .children()
        .filter(|c| c.is("item", NS))
        .map(parse_item)
        .collect::<Result<Vec<_>, _>>()?;
    if items.len() > MAX_ITEMS {
        return Err(bad(format!("more than {MAX_ITEMS} items")));
    }
    items.sort_by_key(|i| i.order);
    if items.windows(2).any(|w| w[0].order == w[1].order) {
        return Err(bad("two items with the same order"));
    }
    Ok(List {
        name: name.to_owned(),
        items,
    })
}

/// The `<list/>` element of a list.
pub fn list_element(list: &List) -> Element {
    let items = list.items.iter().map(|item| {
        let (type_, value) = match &item.matches {
            Match::All => (None, None),
            Match::Jid(j) => (Some("jid"), Some(j.to_string())),
            Match::Group(g) => (Some("group"), Some(g.clone())),
            Match::Subscription(s) => (Some("subscription"), Some(s.name().to_owned())),
        };
        let action = match item.action {
            Action::Allow => "allow",
            Action::Deny => "deny",
        };
        Element::builder("item", NS)
            .attr(rxml_name("type"), type_)
            .attr(rxml_name("value"), value)
            .attr(rxml_name("action"), action)
            .attr(rxml_name("order"), item.order.to_string())
            .append_all(
                item.kinds
                    .iter()
                    .map(|k| Element::builder(k.name(), NS).build()),
            )
            .build()
    });
    Element::builder("list", NS)
        .attr(rxml_name("name"), list.name.as_str())
        .append_all(items)
        .build()
}

fn rxml_name(name: &'static str) -> minidom::rxml::NcName {
    minidom::rxml::NcName::try_from(name).expect("attribute names here are valid")
}

/// A privacy request (XEP-0016 §2.3-§2.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// The names of all lists, the active and the default.
    Names,
    /// One list's items.
    Get(String),
    /// Makes a list active for this session (`None`: no active list).
    SetActive(Option<String>),
    /// Makes a list the default (`None`: no default).
    SetDefault(Option<String>),
    /// Creates or replaces a list.
    Edit(List),
    /// Removes a list (a `<list/>` with no items).
    Remove(String),
}

/// Parses a `jabber:iq:privacy` query; exactly one child is allowed in a set.
pub fn parse(query: &Element, is_set: bool) -> Result<Request, Error> {
    let children: Vec<&Element> = query.children().collect();
    let name_of = |el: &Element| el.attr("name").filter(|n| !n.is_empty()).map(str::to_owned);
    if !is_set {
        return match children.as_slice() {
            [] => Ok(Request::Names),
            [one] if one.is("list", NS) => name_of(one)
                .map(Request::Get)
                .ok_or_else(|| bad("list without a name")),
            _ => Err(bad("a get asks for all names or one list")),
        };
    }
    match children.as_slice() {
        [one] if one.is("active", NS) => Ok(Request::SetActive(name_of(one))),
        [one] if one.is("default", NS) => Ok(Request::SetDefault(name_of(one))),
        [one] if one.is("list", NS) && one.children().next().is_none() => name_of(one)
            .map(Request::Remove)
            .ok_or_else(|| bad("list without a name")),
        [one] if one.is("list", NS) => parse_list(one).map(Request::Edit),
        _ => Err(bad(
            "a set carries exactly one active, default or list element",
        )),
    }
}

/// The answer to [`Request::Names`].
pub fn names_answer(names: &[String], active: Option<&str>, default: Option<&str>) -> Element {
    let named = |tag: &str, name: Option<&str>| {
        name.map(|n| Element::builder(tag, NS).attr(rxml_name("name"), n).build())
    };
    Element::builder("query", NS)
        .append_all(named("active", active))
        .append_all(named("default", default))
        .append_all(names.iter().map(|n| named("list", Some(n)).expect("named")))
        .build()
}

/// The answer to [`Request::Get`], and the body of a list push is [`push`].
pub fn list_answer(list: &List) -> Element {
    Element::builder("query", NS)
        .append(list_element(list))
        .build()
}

/// The payload of the push sent to every resource when a list changes (§2.5: name only).
pub fn push(name: &str) -> Element {
    Element::builder("query", NS)
        .append(
            Element::builder("list", NS)
                .attr(rxml_name("name"), name)
                .build(),
        )
        .build()
}

#[cfg(test)]
#[path = "xep0016_privacy_tests.rs"]
mod tests;
