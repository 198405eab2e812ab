//! XEP-0092: Software Version of the server. The operating system is hidden unless the
//! operator asks for it (it helps attackers more than users).

use minidom::Element;
use xmpp_parsers::version::{VersionQuery, VersionResult};

use crate::Error;

/// What the server tells about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareVersion {
    /// Software name.
    pub name: String,
    /// Software version.
    pub version: String,
    /// Operating system, only when configured to be shown.
    pub os: Option<String>,
}

impl SoftwareVersion {
    /// Name and version, OS hidden.
    pub fn new(name: &str, version: &str) -> Self {
        SoftwareVersion {
            name: name.to_owned(),
            version: version.to_owned(),
            os: None,
        }
    }

    /// This crate's build: `xmppd` and the workspace version.
    pub fn this_build() -> Self {
        Self::new("xmppd", env!("CARGO_PKG_VERSION"))
    }

    /// The result payload.
    pub fn answer(&self) -> VersionResult {
        VersionResult {
            name: self.name.clone(),
            version: self.version.clone(),
            os: self.os.clone(),
        }
    }
}

/// Parse a version request payload.
pub fn parse(payload: Element) -> Result<VersionQuery, Error> {
    VersionQuery::try_from(payload).map_err(|e| Error::ParsePayload {
        what: "jabber:iq:version query",
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_request() {
        let q = parse("<query xmlns='jabber:iq:version'/>".parse().unwrap());
        assert_eq!(q, Ok(VersionQuery));
    }

    #[test]
    fn serialises_without_os_by_default() {
        let xml = String::from(&Element::from(
            SoftwareVersion::new("xmppd", "0.1.0").answer(),
        ));
        assert_eq!(
            xml,
            "<query xmlns='jabber:iq:version'><name>xmppd</name><version>0.1.0</version></query>"
        );
        let mut shown = SoftwareVersion::this_build();
        shown.os = Some("Linux".into());
        assert!(String::from(&Element::from(shown.answer())).contains("<os>Linux</os>"));
    }

    #[test]
    fn refuses_another_namespace() {
        let bad = parse("<query xmlns='jabber:iq:versions'/>".parse().unwrap());
        assert_eq!(
            bad.unwrap_err().to_string(),
            "malformed jabber:iq:version query payload: \
             expected different XML element (got query in namespace jabber:iq:versions)"
        );
    }
}
