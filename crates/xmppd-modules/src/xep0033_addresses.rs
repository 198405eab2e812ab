//! XEP-0033: Extended Stanza Addressing, the server as a multicast service: a message to the
//! server with an `<addresses/>` block goes to every `to`, `cc` and `bcc` address, each copy
//! marked `delivered='true'` and with the `bcc` addresses of others removed (§6).

use std::borrow::Cow;
use std::collections::BTreeSet;

use jid::Jid;
use minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xso::{AsXml, AsXmlText, FromXml, FromXmlText};

/// The extended addressing namespace, also the disco#info feature.
pub const NS: &str = "http://jabber.org/protocol/address";

/// Most addresses one stanza may carry (§9: more than 20, less than 100).
pub const MAX_ADDRESSES: usize = 50;

/// The role of an address (§4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    To,
    Cc,
    Bcc,
    ReplyTo,
    ReplyRoom,
    NoReply,
    OFrom,
}

const KINDS: [(Kind, &str); 7] = [
    (Kind::To, "to"),
    (Kind::Cc, "cc"),
    (Kind::Bcc, "bcc"),
    (Kind::ReplyTo, "replyto"),
    (Kind::ReplyRoom, "replyroom"),
    (Kind::NoReply, "noreply"),
    (Kind::OFrom, "ofrom"),
];

impl FromXmlText for Kind {
    fn from_xml_text(data: String) -> Result<Self, xso::error::Error> {
        KINDS
            .iter()
            .find(|(_, name)| *name == data)
            .map(|(kind, _)| *kind)
            .ok_or(xso::error::Error::Other("unknown address type"))
    }
}

impl AsXmlText for Kind {
    fn as_xml_text(&self) -> Result<Cow<'_, str>, xso::error::Error> {
        let name = KINDS
            .iter()
            .find(|(k, _)| k == self)
            .map_or("to", |(_, n)| n);
        Ok(Cow::Borrowed(name))
    }
}

/// One `<address/>`; extension children are kept as they are (§4.7).
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "address")]
pub struct Address {
    #[xml(attribute = "type")]
    pub kind: Kind,
    #[xml(attribute(default))]
    pub jid: Option<String>,
    #[xml(attribute(default))]
    pub uri: Option<String>,
    #[xml(attribute(default))]
    pub node: Option<String>,
    #[xml(attribute(default))]
    pub desc: Option<String>,
    #[xml(attribute(default))]
    pub delivered: Option<String>,
    #[xml(element(n = ..))]
    pub extensions: Vec<Element>,
}

impl Address {
    fn is_delivered(&self) -> bool {
        self.delivered.as_deref() == Some("true")
    }
}

/// The `<addresses/>` block.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "addresses")]
pub struct Addresses {
    #[xml(child(n = ..))]
    pub addresses: Vec<Address>,
}

/// Why a multicast message was refused (§9).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressingError {
    #[error("malformed addresses: {0}")]
    Malformed(String),
    #[error("more than {MAX_ADDRESSES} addresses")]
    TooMany,
    #[error("address {0:?} cannot be delivered to by this server")]
    NotDeliverable(String),
    #[error("address {0:?} is not a JID")]
    BadJid(String),
}

impl AddressingError {
    pub fn condition(&self) -> (ErrorType, DefinedCondition) {
        match self {
            AddressingError::Malformed(_) => (ErrorType::Modify, DefinedCondition::BadRequest),
            AddressingError::TooMany => (ErrorType::Modify, DefinedCondition::NotAcceptable),
            AddressingError::NotDeliverable(_) => (ErrorType::Auth, DefinedCondition::Forbidden),
            AddressingError::BadJid(_) => (ErrorType::Modify, DefinedCondition::JidMalformed),
        }
    }
}

/// Parse the `<addresses/>` child of a stanza.
pub fn parse(stanza: &Element) -> Result<Addresses, AddressingError> {
    let block = stanza
        .get_child("addresses", NS)
        .ok_or_else(|| AddressingError::Malformed("no <addresses/> element".into()))?;
    let addresses = Addresses::try_from(block.clone())
        .map_err(|e| AddressingError::Malformed(e.to_string()))?;
    if addresses.addresses.len() > MAX_ADDRESSES {
        return Err(AddressingError::TooMany);
    }
    Ok(addresses)
}

/// One copy to deliver: its recipient and the address block it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Copy {
    pub to: Jid,
    pub addresses: Addresses,
}

/// The copies of a multicast (§6). Every `to`/`cc`/`bcc` address not yet delivered must be a
/// JID that `deliverable` accepts, or nothing is sent (§6 step 5). Each recipient gets one
/// copy, however often it is named; bcc recipients see only their own bcc address.
pub fn fan_out(
    addresses: Addresses,
    deliverable: impl Fn(&Jid) -> bool,
) -> Result<Vec<Copy>, AddressingError> {
    let mut targets: Vec<(Jid, Option<Address>)> = Vec::new();
    let mut seen = BTreeSet::new();
    for address in &addresses.addresses {
        if !matches!(address.kind, Kind::To | Kind::Cc | Kind::Bcc) || address.is_delivered() {
            continue;
        }
        let Some(text) = &address.jid else {
            // Only JIDs are supported; a uri-only recipient cannot be reached (§9).
            return Err(AddressingError::BadJid(
                address.uri.clone().unwrap_or_default(),
            ));
        };
        let jid = Jid::new(text).map_err(|_| AddressingError::BadJid(text.clone()))?;
        if !deliverable(&jid) {
            return Err(AddressingError::NotDeliverable(text.clone()));
        }
        if seen.insert(jid.to_string()) {
            let own_bcc = (address.kind == Kind::Bcc).then(|| address.clone());
            targets.push((jid, own_bcc));
        }
    }
    let shared: Vec<Address> = addresses
        .addresses
        .into_iter()
        .filter(|a| a.kind != Kind::Bcc)
        .map(|mut a| {
            if matches!(a.kind, Kind::To | Kind::Cc) {
                a.delivered = Some("true".into());
            }
            a
        })
        .collect();
    Ok(targets
        .into_iter()
        .map(|(to, own_bcc)| {
            let mut list = shared.clone();
            list.extend(own_bcc.map(|mut a| {
                a.delivered = Some("true".into());
                a
            }));
            Copy {
                to,
                addresses: Addresses { addresses: list },
            }
        })
        .collect())
}

#[cfg(test)]
#[path = "xep0033_addresses_tests.rs"]
mod tests;
