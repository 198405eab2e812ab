//! XEP-0054: vcard-temp. Anyone may read an account's vCard; only the owner may set it, up to
//! a configured size.

use jid::BareJid;
use minidom::Element;
use xmpp_parsers::ns;

use crate::Error;

/// Default size limit of a stored vCard in bytes (photos make them large; Prosody's
/// default upload limit for avatars is in this range).
pub const DEFAULT_MAX_BYTES: usize = 256 * 1024;

/// A validated vCard request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Read the vCard of this account.
    Get(BareJid),
    /// Store this vCard for the requester's own account.
    Set(Element),
}

/// Validate a vCard get or set from `requester`, addressed to `target` (the bare JID in the
/// IQ's `to`, or the requester's own when there is none).
pub fn parse(
    requester: &BareJid,
    target: &BareJid,
    is_set: bool,
    payload: Element,
    max_bytes: usize,
) -> Result<Request, Error> {
    if !payload.is("vCard", ns::VCARD) {
        return Err(Error::unexpected_element("vcard-temp vCard", &payload));
    }
    if !is_set {
        return Ok(Request::Get(target.clone()));
    }
    if requester != target {
        return Err(Error::VcardSetOther);
    }
    let len = String::from(&payload).len();
    if len > max_bytes {
        return Err(Error::VcardTooLarge {
            len,
            max: max_bytes,
        });
    }
    Ok(Request::Set(payload))
}

/// The result payload of a get: the stored vCard, or an empty one (§3.1 allows either an empty
/// vCard or `item-not-found`; empty is what clients handle best).
pub fn answer_get(stored: Option<Element>) -> Element {
    stored.unwrap_or_else(|| Element::builder("vCard", ns::VCARD).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    const CARD: &str = "<vCard xmlns='vcard-temp'><FN>Peter Saint-Andre</FN></vCard>";

    #[test]
    fn parses_get_of_others_and_set_of_self() {
        let me = jid("stpeter@jabber.org");
        let other = jid("jer@jabber.org");
        let get = parse(
            &me,
            &other,
            false,
            "<vCard xmlns='vcard-temp'/>".parse().unwrap(),
            100,
        );
        assert_eq!(get, Ok(Request::Get(other)));
        let set = parse(&me, &me, true, CARD.parse().unwrap(), DEFAULT_MAX_BYTES).unwrap();
        let Request::Set(card) = set else {
            panic!("a set")
        };
        assert_eq!(
            card.get_child("FN", ns::VCARD).unwrap().text(),
            "Peter Saint-Andre"
        );
    }

    #[test]
    fn serialises_stored_or_empty_vcard() {
        assert_eq!(
            String::from(&answer_get(None)),
            "<vCard xmlns='vcard-temp'/>"
        );
        assert_eq!(String::from(&answer_get(Some(CARD.parse().unwrap()))), CARD);
    }

    #[test]
    fn refuses_foreign_sets_oversized_cards_and_wrong_elements() {
        let me = jid("stpeter@jabber.org");
        let other = jid("jer@jabber.org");
        assert_eq!(
            parse(&me, &other, true, CARD.parse().unwrap(), 1000),
            Err(Error::VcardSetOther)
        );
        assert_eq!(
            parse(&me, &me, true, CARD.parse().unwrap(), 10),
            Err(Error::VcardTooLarge {
                len: CARD.len(),
                max: 10
            })
        );
        let wrong = parse(
            &me,
            &me,
            false,
            "<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>"
                .parse()
                .unwrap(),
            10,
        );
        assert_eq!(
            wrong.unwrap_err().to_string(),
            "malformed vcard-temp vCard payload: unexpected element vcard in namespace urn:ietf:params:xml:ns:vcard-4.0"
        );
    }
}
