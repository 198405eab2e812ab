//! Stream features per negotiation stage (RFC 6120 §4.3.2, §5.3.1, §6.3.1, §7.3.1; RFC 3921
//! §3 session; XEP-0440 channel-binding types).

use minidom::Element;
use xmpp_parsers::bind::BindFeature;
use xmpp_parsers::starttls::StartTls;

use super::{C2s, Stage};
use crate::ns;
use crate::sasl::mechanisms::{self, Offer};

impl C2s {
    /// The SASL situation of this connection.
    pub(super) fn offer(&self) -> Offer<'_> {
        Offer {
            configured: &self.config.mechanisms,
            tls: self.stage != Stage::Connected,
            channel_binding: &self.channel_binding,
            plain_allowed: self.config.plain_allowed,
        }
    }

    /// Whether TLS must come before anything else.
    pub(super) fn tls_required_first(&self) -> bool {
        self.stage == Stage::Connected && self.config.require_encryption
    }

    /// `<stream:features/>` for the current stage.
    pub(super) fn features(&self) -> Element {
        let mut features = Element::builder("features", ns::STREAM).build();
        match self.stage {
            Stage::Connected | Stage::Secured => {
                if self.stage == Stage::Connected && self.config.starttls_available {
                    features.append_child(
                        StartTls {
                            required: self.config.require_encryption,
                        }
                        .into(),
                    );
                }
                if !self.tls_required_first() {
                    let offer = self.offer();
                    let offered = offer.mechanisms();
                    if !offered.is_empty() {
                        features.append_child(mechanisms::mechanisms_element(&offered));
                    }
                    if let Some(cb) =
                        mechanisms::channel_binding_element(&offer.binding_for_scram())
                    {
                        features.append_child(cb);
                    }
                    let open = self
                        .host
                        .as_ref()
                        .is_some_and(|h| self.config.registration_hosts.contains(h));
                    if self.stage == Stage::Secured && open {
                        features.append_child(
                            Element::builder("register", ns::REGISTER_FEATURE).build(),
                        );
                    }
                }
            }
            Stage::Authenticated => {
                features.append_child(BindFeature { required: false }.into());
                features.append_child(
                    Element::builder("session", ns::SESSION)
                        .append(Element::builder("optional", ns::SESSION).build())
                        .build(),
                );
                for extra in &self.config.extra_features {
                    features.append_child(extra.clone());
                }
            }
            Stage::Bound | Stage::Closed => {}
        }
        features
    }
}
