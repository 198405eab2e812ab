//! XEP-0045 §6: what service discovery says about the service and its rooms.

use jid::{BareJid, Jid};
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field};
use xmpp_parsers::disco::{DiscoInfoResult, DiscoItemsResult, Identity, Item};

use super::config::Whois;
use super::room::Room;

/// XEP-0313 namespace, advertised by archived rooms.
pub const NS_MAM: &str = "urn:xmpp:mam:2";

/// The service's own disco#info (§6.1).
pub fn service_info(name: &str) -> DiscoInfoResult {
    DiscoInfoResult {
        node: None,
        identities: vec![Identity::new("conference", "text", "en", name)],
        features: [
            xmpp_parsers::ns::MUC,
            xmpp_parsers::ns::DISCO_INFO,
            xmpp_parsers::ns::DISCO_ITEMS,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect(),
        extensions: Vec::new(),
    }
}

/// The service's rooms in disco#items (§6.3): hidden and locked rooms are left out.
pub fn service_items<'a>(rooms: impl Iterator<Item = &'a Room>) -> DiscoItemsResult {
    let mut items: Vec<Item> = rooms
        .filter(|r| r.config.public && !r.locked)
        .map(|r| Item {
            jid: Jid::from(r.jid.clone()),
            node: None,
            name: (!r.config.name.is_empty()).then(|| r.config.name.clone()),
        })
        .collect();
    items.sort_by(|a, b| a.jid.as_str().cmp(b.jid.as_str()));
    DiscoItemsResult {
        node: None,
        items,
        rsm: None,
    }
}

/// A room's disco#info (§6.4): identity, the features its configuration implies, and the
/// `muc#roominfo` form.
pub fn room_info(room: &Room, jid: &BareJid) -> DiscoInfoResult {
    let c = &room.config;
    let pick = |on: bool, yes: &str, no: &str| if on { yes.to_owned() } else { no.to_owned() };
    let mut features = vec![
        xmpp_parsers::ns::MUC.to_owned(),
        "vcard-temp".to_owned(),
        "urn:xmpp:ping".to_owned(),
        super::voice::NS_REQUEST.to_owned(),
        pick(c.persistent, "muc_persistent", "muc_temporary"),
        pick(c.public, "muc_public", "muc_hidden"),
        pick(c.members_only, "muc_membersonly", "muc_open"),
        pick(c.moderated, "muc_moderated", "muc_unmoderated"),
        pick(
            c.password.is_some(),
            "muc_passwordprotected",
            "muc_unsecured",
        ),
        pick(
            c.whois == Whois::Anyone,
            "muc_nonanonymous",
            "muc_semianonymous",
        ),
    ];
    if room.archived {
        features.push(NS_MAM.to_owned());
    }
    let name = if c.name.is_empty() {
        jid.node()
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default()
    } else {
        c.name.clone()
    };
    let form = DataForm::new(
        DataFormType::Result_,
        "http://jabber.org/protocol/muc#roominfo",
        vec![
            Field::text_single("muc#roominfo_description", &c.description),
            Field::text_single("muc#roominfo_occupants", &room.occupants.len().to_string()),
            Field::text_single(
                "muc#roominfo_subject",
                room.subject
                    .as_ref()
                    .map(|s| s.text.as_str())
                    .unwrap_or_default(),
            ),
        ],
    );
    DiscoInfoResult {
        node: None,
        identities: vec![Identity::new("conference", "text", "en", name)],
        features: features.into_iter().collect(),
        extensions: vec![form],
    }
}
