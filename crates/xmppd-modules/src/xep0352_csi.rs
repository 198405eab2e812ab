//! XEP-0352: Client State Indication. The client says whether a person is looking; while
//! inactive the server may hold back what is not urgent.

use minidom::Element;

/// The CSI namespace.
pub const NS: &str = "urn:xmpp:csi:0";

/// What the client says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    Active,
    Inactive,
}

/// The client state a top-level element announces, if it is a CSI element.
pub fn parse(element: &Element) -> Option<ClientState> {
    if element.is("active", NS) {
        Some(ClientState::Active)
    } else if element.is("inactive", NS) {
        Some(ClientState::Inactive)
    } else {
        None
    }
}

/// The stream feature that announces CSI (§3).
pub fn feature() -> Element {
    Element::builder("csi", NS).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_states_and_nothing_else() {
        let el = |xml: &str| xml.parse::<Element>().unwrap();
        assert_eq!(
            parse(&el("<active xmlns='urn:xmpp:csi:0'/>")),
            Some(ClientState::Active)
        );
        assert_eq!(
            parse(&el("<inactive xmlns='urn:xmpp:csi:0'/>")),
            Some(ClientState::Inactive)
        );
        assert_eq!(parse(&el("<inactive xmlns='urn:xmpp:csi:1'/>")), None);
        assert_eq!(parse(&el("<enable xmlns='urn:xmpp:sm:3'/>")), None);
    }

    #[test]
    fn feature_serialises() {
        let text = String::from(&feature());
        let back: Element = text.parse().unwrap();
        assert!(back.is("csi", NS), "{text}");
        assert_eq!(back.children().count(), 0);
    }
}
