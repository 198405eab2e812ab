//! XEP-0191: Blocking Command (urn:xmpp:blocking). The protocol only: a blocklist is
//! evaluated by the XEP-0016 engine as a list of deny-everything items ([`as_list`]).

use jid::Jid;
use minidom::Element;
use xmpp_parsers::blocking::{Block, Blocked, BlocklistResult, Unblock};
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use crate::Error;
use crate::xep0016_privacy::{Action, Item, List, Match};

/// The namespace, also the server's disco feature.
pub const NS: &str = xmpp_parsers::ns::BLOCKING;

/// Most JIDs one account may block (a stranger-facing limit on stored data).
pub const MAX_BLOCKED: usize = 1000;

/// A blocking request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// The blocklist (and pushes from now on).
    Get,
    /// Block these JIDs.
    Block(Vec<Jid>),
    /// Unblock these JIDs; empty means every one.
    Unblock(Vec<Jid>),
}

fn bad(reason: impl ToString) -> Error {
    Error::BlockingBadRequest(reason.to_string())
}

/// Parses the payload of a blocking IQ (XEP-0191 §3.2-§3.5).
pub fn parse(payload: &Element, is_set: bool) -> Result<Request, Error> {
    if !is_set {
        if payload.is("blocklist", NS) {
            return Ok(Request::Get);
        }
        return Err(Error::unexpected_element(
            "urn:xmpp:blocking blocklist",
            payload,
        ));
    }
    if payload.is("block", NS) {
        let block = Block::try_from(payload.clone()).map_err(bad)?;
        if block.items.is_empty() {
            return Err(bad("a block request names at least one JID"));
        }
        return Ok(Request::Block(block.items));
    }
    if payload.is("unblock", NS) {
        let unblock = Unblock::try_from(payload.clone()).map_err(bad)?;
        return Ok(Request::Unblock(unblock.items));
    }
    Err(Error::unexpected_element(
        "urn:xmpp:blocking block or unblock",
        payload,
    ))
}

/// The answer to [`Request::Get`].
pub fn blocklist(items: Vec<Jid>) -> Element {
    BlocklistResult { items }.into()
}

/// The push for a block (§3.3), sent to every resource that asked for the blocklist.
pub fn push_block(items: Vec<Jid>) -> Element {
    Block { items }.into()
}

/// The push for an unblock (§3.4); empty items means everything was unblocked.
pub fn push_unblock(items: Vec<Jid>) -> Element {
    Unblock { items }.into()
}

/// A blocklist as a privacy list for the engine: each JID denied for every stanza kind.
pub fn as_list(blocked: &[Jid]) -> List {
    List {
        name: "urn:xmpp:blocking".to_owned(),
        items: blocked
            .iter()
            .zip(0u32..)
            .map(|(jid, order)| Item {
                matches: Match::Jid(jid.clone()),
                action: Action::Deny,
                order,
                kinds: Vec::new(),
            })
            .collect(),
    }
}

/// The error for a stanza the user sent to a JID they blocked (§3.6): `not-acceptable` with
/// the `<blocked/>` application condition.
pub fn blocked_error() -> StanzaError {
    let mut error =
        crate::stanza_error::make(ErrorType::Cancel, DefinedCondition::NotAcceptable, None);
    error.other = Some(Blocked.into());
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xep0016_privacy::{Contact, Kind, Subscription, decide};

    fn el(xml: &str) -> Element {
        xml.parse().unwrap()
    }

    #[test]
    fn parses_requests() {
        assert_eq!(
            parse(&el("<blocklist xmlns='urn:xmpp:blocking'/>"), false),
            Ok(Request::Get)
        );
        assert_eq!(
            parse(
                &el(
                    "<block xmlns='urn:xmpp:blocking'><item jid='a@b.lit'/><item jid='c.lit'/></block>"
                ),
                true
            ),
            Ok(Request::Block(vec![
                Jid::new("a@b.lit").unwrap(),
                Jid::new("c.lit").unwrap()
            ]))
        );
        assert_eq!(
            parse(&el("<unblock xmlns='urn:xmpp:blocking'/>"), true),
            Ok(Request::Unblock(vec![]))
        );
    }

    #[test]
    fn rejects_bad_requests() {
        assert!(matches!(
            parse(&el("<block xmlns='urn:xmpp:blocking'/>"), true),
            Err(Error::BlockingBadRequest(_))
        ));
        assert!(matches!(
            parse(
                &el("<block xmlns='urn:xmpp:blocking'><item jid='@@'/></block>"),
                true
            ),
            Err(Error::BlockingBadRequest(_))
        ));
        assert!(matches!(
            parse(
                &el("<block xmlns='urn:xmpp:blocking'><item jid='a@b'/></block>"),
                false
            ),
            Err(Error::ParsePayload { .. })
        ));
    }

    #[test]
    fn serialises_pushes_and_error() {
        let push = push_block(vec![Jid::new("a@b.lit").unwrap()]);
        assert!(push.is("block", NS));
        assert_eq!(
            push.get_child("item", NS).unwrap().attr("jid"),
            Some("a@b.lit")
        );
        assert!(push_unblock(vec![]).children().next().is_none());
        let error: Element = blocked_error().into();
        assert!(error.has_child("not-acceptable", xmpp_parsers::ns::XMPP_STANZAS));
        assert!(error.has_child("blocked", xmpp_parsers::ns::BLOCKING_ERRORS));
    }

    #[test]
    fn blocklist_denies_bare_full_and_domain_matches() {
        let list = as_list(&[
            Jid::new("spam@x.lit").unwrap(),
            Jid::new("evil.lit").unwrap(),
        ]);
        let verdict = |jid: &str| {
            let jid = Jid::new(jid).unwrap();
            let contact = Contact {
                jid: &jid,
                groups: &[],
                subscription: Subscription::None,
            };
            decide(&list, &contact, Kind::Message)
        };
        assert_eq!(verdict("spam@x.lit/phone"), Action::Deny);
        assert_eq!(verdict("spam@x.lit"), Action::Deny);
        assert_eq!(verdict("anyone@evil.lit/r"), Action::Deny);
        assert_eq!(verdict("evil.lit"), Action::Deny);
        assert_eq!(verdict("friend@x.lit"), Action::Allow);
    }
}
