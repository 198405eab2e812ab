//! Which SASL mechanisms to offer (RFC 6120 §6.4.1) and how to advertise them, including the
//! channel-binding types (XEP-0440). DIGEST-MD5 and other legacy mechanisms do not exist here.

use minidom::Element;
use xmpp_parsers::sasl_cb::{SaslChannelBinding, Type};

use super::scram::{ChannelBindingData, ChannelBindingType, ScramMechanism};
use crate::ns;

/// A mechanism the server implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mechanism {
    /// A SCRAM family member.
    Scram(ScramMechanism),
    /// PLAIN (RFC 4616).
    Plain,
}

impl Mechanism {
    /// The IANA name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Scram(m) => m.name(),
            Self::Plain => "PLAIN",
        }
    }

    /// Parse an IANA name; `None` for anything we do not implement.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "PLAIN" => Some(Self::Plain),
            _ => ScramMechanism::from_name(name).map(Self::Scram),
        }
    }

    /// Every mechanism we implement, strongest first: a sensible configured default.
    #[must_use]
    pub fn all() -> Vec<Self> {
        ScramMechanism::ALL
            .into_iter()
            .map(Self::Scram)
            .chain([Self::Plain])
            .collect()
    }
}

/// The situation of one connection at SASL time.
#[derive(Debug, Clone, Copy)]
pub struct Offer<'a> {
    /// The mechanisms the operator enabled, in preference order.
    pub configured: &'a [Mechanism],
    /// Whether the stream is encrypted.
    pub tls: bool,
    /// What channel binding the TLS layer can give.
    pub channel_binding: &'a ChannelBindingData,
    /// Whether the operator allows PLAIN (it is still only offered over TLS).
    pub plain_allowed: bool,
}

impl Offer<'_> {
    /// The mechanisms to advertise, in configured order.
    #[must_use]
    pub fn mechanisms(&self) -> Vec<Mechanism> {
        self.configured
            .iter()
            .copied()
            .filter(|m| match m {
                Mechanism::Scram(s) if s.plus => self.tls && !self.channel_binding.is_empty(),
                Mechanism::Scram(_) => true,
                Mechanism::Plain => self.tls && self.plain_allowed,
            })
            .collect()
    }

    /// The channel binding data SCRAM should hold clients to: empty unless a -PLUS
    /// mechanism is actually advertised (else `y` clients would be wrongly refused).
    #[must_use]
    pub fn binding_for_scram(&self) -> ChannelBindingData {
        let plus_offered = self
            .mechanisms()
            .iter()
            .any(|m| matches!(m, Mechanism::Scram(s) if s.plus));
        if plus_offered {
            self.channel_binding.clone()
        } else {
            ChannelBindingData::none()
        }
    }
}

/// `<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>` in the given order.
#[must_use]
pub fn mechanisms_element(mechanisms: &[Mechanism]) -> Element {
    Element::builder("mechanisms", ns::SASL)
        .append_all(mechanisms.iter().map(|m| {
            Element::builder("mechanism", ns::SASL)
                .append(m.name())
                .build()
        }))
        .build()
}

/// XEP-0440 `<sasl-channel-binding/>`, or `None` when there is nothing to advertise.
#[must_use]
pub fn channel_binding_element(data: &ChannelBindingData) -> Option<Element> {
    let types: Vec<Type> = data
        .types()
        .into_iter()
        .map(|t| match t {
            ChannelBindingType::TlsExporter => Type::TlsExporter,
            ChannelBindingType::TlsServerEndPoint => Type::TlsServerEndPoint,
        })
        .collect();
    (!types.is_empty()).then(|| SaslChannelBinding { types }.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sasl::credentials::ScramHash;

    fn cb() -> ChannelBindingData {
        ChannelBindingData {
            tls_exporter: Some(vec![1; 32]),
            tls_server_end_point: None,
        }
    }

    fn names(ms: &[Mechanism]) -> Vec<&'static str> {
        ms.iter().map(|m| m.name()).collect()
    }

    #[test]
    fn plus_and_plain_need_tls() {
        let all = Mechanism::all();
        let data = cb();
        let offer = Offer {
            configured: &all,
            tls: false,
            channel_binding: &data,
            plain_allowed: true,
        };
        assert_eq!(
            names(&offer.mechanisms()),
            ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1"]
        );
        assert!(offer.binding_for_scram().is_empty());
        let offer = Offer { tls: true, ..offer };
        assert_eq!(names(&offer.mechanisms()).len(), 7);
        assert_eq!(offer.binding_for_scram(), data);
    }

    #[test]
    fn plain_needs_permission_and_plus_needs_binding_data() {
        let all = Mechanism::all();
        let none = ChannelBindingData::none();
        let offer = Offer {
            configured: &all,
            tls: true,
            channel_binding: &none,
            plain_allowed: false,
        };
        assert_eq!(
            names(&offer.mechanisms()),
            ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1"]
        );
    }

    #[test]
    fn configured_order_and_subset_are_kept() {
        let configured = [
            Mechanism::Plain,
            Mechanism::Scram(ScramMechanism::new(ScramHash::Sha256, true)),
        ];
        let data = cb();
        let offer = Offer {
            configured: &configured,
            tls: true,
            channel_binding: &data,
            plain_allowed: true,
        };
        assert_eq!(names(&offer.mechanisms()), ["PLAIN", "SCRAM-SHA-256-PLUS"]);
    }

    #[test]
    fn names_round_trip_and_unknown_ones_do_not_exist() {
        for m in Mechanism::all() {
            assert_eq!(Mechanism::from_name(m.name()), Some(m));
        }
        assert_eq!(Mechanism::from_name("DIGEST-MD5"), None);
        assert_eq!(Mechanism::from_name("scram-sha-1"), None);
    }

    #[test]
    fn elements_serialise() {
        let el = mechanisms_element(&[Mechanism::Plain]);
        assert_eq!(
            String::from_utf8(crate::writer::element(&el).unwrap()).unwrap(),
            "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
        );
        let el = channel_binding_element(&cb()).unwrap();
        assert_eq!(
            String::from_utf8(crate::writer::element(&el).unwrap()).unwrap(),
            "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/></sasl-channel-binding>"
        );
        assert!(channel_binding_element(&ChannelBindingData::none()).is_none());
    }
}
