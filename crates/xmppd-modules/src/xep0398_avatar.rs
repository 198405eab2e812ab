//! XEP-0398: User Avatar to vCard-Based Avatars Conversion. A XEP-0084 avatar published to PEP
//! becomes the XEP-0054 vCard PHOTO and the other way round, and the XEP-0153 photo hash is
//! what the server adds to the account's presence.

use base64::Engine;
use minidom::Element;
use sha1::{Digest, Sha1};
use xmpp_parsers::avatar::{Data, Info, Metadata};
use xmpp_parsers::hashes::Sha1HexAttribute;
use xmpp_parsers::ns;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::vcard::{Binval, Photo, Type, VCard};
use xmpp_parsers::vcard_update::{Photo as UpdatePhoto, VCardUpdate};

use crate::xep0060_pubsub::{AccessModel, NodeConfig, SendLast};

/// The XEP-0084 node holding image data, item id = SHA-1 of the data in hex.
pub const DATA_NODE: &str = "urn:xmpp:avatar:data";
/// The XEP-0084 node holding what describes the current avatar.
pub const METADATA_NODE: &str = "urn:xmpp:avatar:metadata";
/// The account feature announcing the conversion.
pub const FEATURE: &str = "urn:xmpp:pep-vcard-conversion:0";

/// Avatars made from a vCard are as visible as the vCard itself: to anyone.
pub fn node_config() -> NodeConfig {
    NodeConfig {
        access_model: AccessModel::Open,
        max_items: 1,
        persist_items: true,
        send_last: SendLast::OnSubAndPresence,
    }
}

/// The SHA-1 of image data, in lower-case hex as XEP-0084 and XEP-0153 write it.
pub fn hash_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The MIME type of the avatar a metadata payload names (its first `<info/>` without a URL,
/// the one whose data is in the data node), with its id; `None` for an empty metadata
/// (avatar switched off) or one that does not parse.
pub fn current_avatar(metadata: &Element) -> Option<(String, String)> {
    let metadata = Metadata::try_from(metadata.clone()).ok()?;
    let info = metadata.infos.into_iter().find(|i| i.url.is_none())?;
    Some((hash_hex_of(&info.id), info.type_))
}

fn hash_hex_of(id: &Sha1HexAttribute) -> String {
    id.hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// The image bytes of a data payload.
pub fn data_bytes(payload: &Element) -> Option<Vec<u8>> {
    Data::try_from(payload.clone()).ok().map(|d| d.data)
}

/// The stored vCard with its PHOTO replaced (or removed when `photo` is `None`), other
/// fields kept. A stored vCard that does not parse is replaced by one with only the photo.
pub fn vcard_with_photo(stored: Option<Element>, photo: Option<(&str, &[u8])>) -> Element {
    let mut card = stored
        .and_then(|s| VCard::try_from(s).ok())
        .unwrap_or(VCard {
            photo: None,
            payloads: Vec::new(),
        });
    card.photo = photo.map(|(mime, bytes)| Photo {
        type_: Type {
            data: mime.to_owned(),
        },
        binval: Binval {
            data: bytes.to_vec(),
        },
    });
    card.into()
}

/// The photo of a vCard: MIME type and bytes.
pub fn vcard_photo(card: &Element) -> Option<(String, Vec<u8>)> {
    // Some clients wrap BINVAL in line breaks; the typed parser rejects those, so strip them.
    let photo = card.get_child("PHOTO", ns::VCARD)?;
    let mime = photo.get_child("TYPE", ns::VCARD)?.text();
    let binval: String = photo
        .get_child("BINVAL", ns::VCARD)?
        .text()
        .split_whitespace()
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(binval)
        .ok()?;
    (!bytes.is_empty()).then_some((mime, bytes))
}

/// The data and metadata payloads of a XEP-0084 avatar with these bytes; the item id of both
/// is the hash.
pub fn avatar_items(mime: &str, bytes: &[u8]) -> Option<(String, Element, Element)> {
    let id = hash_hex(bytes);
    let info = Info {
        bytes: u32::try_from(bytes.len()).ok()?,
        width: None,
        height: None,
        id: id.parse().ok()?,
        type_: mime.to_owned(),
        url: None,
    };
    let data = Data {
        data: bytes.to_vec(),
    };
    let metadata = Metadata { infos: vec![info] };
    Some((id, data.into(), metadata.into()))
}

/// The SHA-1 of a vCard's photo, for XEP-0153 presence.
pub fn photo_hash(card: &Element) -> Option<[u8; 20]> {
    vcard_photo(card).map(|(_, bytes)| Sha1::digest(&bytes).into())
}

/// Adds `<x xmlns='vcard-temp:x:update'><photo>HASH</photo></x>` to a presence that has no
/// update element of its own (a client that sends one knows better, e.g. an empty one while
/// it has not loaded the vCard yet).
pub fn stamp_presence(presence: &mut Presence, hash: Option<[u8; 20]>) {
    if presence
        .payloads
        .iter()
        .any(|p| p.is("x", ns::VCARD_UPDATE))
    {
        return;
    }
    let update = VCardUpdate {
        photo: Some(UpdatePhoto { data: hash }),
    };
    presence.payloads.push(update.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot really an image";

    #[test]
    fn avatar_to_vcard_and_back() {
        let (id, data, metadata) = avatar_items("image/png", PNG).unwrap();
        assert_eq!(id, hash_hex(PNG));
        assert_eq!(
            current_avatar(&metadata),
            Some((id.clone(), "image/png".into()))
        );
        let bytes = data_bytes(&data).unwrap();
        let stored: Element = "<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>"
            .parse()
            .unwrap();
        let card = vcard_with_photo(Some(stored), Some(("image/png", &bytes)));
        assert_eq!(vcard_photo(&card), Some(("image/png".into(), PNG.to_vec())));
        assert!(
            card.get_child("FN", ns::VCARD).is_some(),
            "other fields are kept"
        );
        assert_eq!(
            photo_hash(&card).map(|h| h.to_vec()),
            Some(Sha1::digest(PNG).to_vec())
        );
        let cleared = vcard_with_photo(Some(card), None);
        assert_eq!(vcard_photo(&cleared), None);
    }

    #[test]
    fn empty_metadata_means_no_avatar() {
        let empty: Element = "<metadata xmlns='urn:xmpp:avatar:metadata'/>"
            .parse()
            .unwrap();
        assert_eq!(current_avatar(&empty), None);
    }

    #[test]
    fn presence_gets_the_hash_once() {
        let mut presence = Presence::available();
        let hash = [7u8; 20];
        stamp_presence(&mut presence, Some(hash));
        stamp_presence(&mut presence, None);
        let updates: Vec<_> = presence
            .payloads
            .iter()
            .filter(|p| p.is("x", ns::VCARD_UPDATE))
            .collect();
        assert_eq!(updates.len(), 1);
        let photo = updates[0].get_child("photo", ns::VCARD_UPDATE).unwrap();
        assert_eq!(photo.text(), "07".repeat(20));
    }
}
