//! XEP-0157: Contact Addresses for XMPP Services, as the `http://jabber.org/network/serverinfo`
//! form (XEP-0128) in the server's disco#info.

use xmpp_parsers::data_forms::DataForm;
use xmpp_parsers::server_info::ServerInfo;

/// The addresses, each list a set of URIs (`xmpp:`, `mailto:`, `https:`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    pub admin: Vec<String>,
    pub abuse: Vec<String>,
    pub support: Vec<String>,
    pub security: Vec<String>,
    pub feedback: Vec<String>,
    pub sales: Vec<String>,
}

/// The serverinfo form, or `None` when no address is configured (an empty form says nothing).
pub fn form(addresses: Addresses) -> Option<DataForm> {
    if addresses == Addresses::default() {
        return None;
    }
    Some(DataForm::from(ServerInfo {
        abuse: addresses.abuse,
        admin: addresses.admin,
        feedback: addresses.feedback,
        sales: addresses.sales,
        security: addresses.security,
        support: addresses.support,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidom::Element;

    #[test]
    fn form_round_trips_with_the_serverinfo_type() {
        let form = form(Addresses {
            admin: vec!["xmpp:admin@example.test".into()],
            abuse: vec!["mailto:abuse@example.test".into()],
            ..Addresses::default()
        })
        .unwrap();
        assert_eq!(
            form.form_type(),
            Some("http://jabber.org/network/serverinfo")
        );
        let parsed =
            ServerInfo::try_from(DataForm::try_from(Element::from(form)).unwrap()).unwrap();
        assert_eq!(parsed.admin, ["xmpp:admin@example.test"]);
        assert_eq!(parsed.abuse, ["mailto:abuse@example.test"]);
        assert!(parsed.support.is_empty());
    }

    #[test]
    fn no_addresses_no_form() {
        assert_eq!(form(Addresses::default()), None);
    }
}
