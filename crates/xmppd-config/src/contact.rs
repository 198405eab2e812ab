//! XEP-0157 contact addresses, announced in the server's disco#info.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// URI schemes a contact address may use: an XMPP address, a mail address or a web page.
pub const CONTACT_SCHEMES: &[&str] = &["xmpp:", "mailto:", "https:"];

/// Longest contact URI accepted (they are sent in every disco#info of the server).
const MAX_URI_LEN: usize = 512;

/// Whom to contact about this server, as lists of `xmpp:`, `mailto:` or `https:` URIs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The people who run the server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin: Vec<String>,
    /// Where to report abuse (spam, harassment) coming from this server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub abuse: Vec<String>,
    /// Help for users of this server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub support: Vec<String>,
    /// Where to report security issues.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<String>,
    /// Feedback about the service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feedback: Vec<String>,
    /// Commercial questions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sales: Vec<String>,
}

impl Contact {
    /// Each list with its key name.
    pub fn lists(&self) -> [(&'static str, &[String]); 6] {
        [
            ("admin", &self.admin),
            ("abuse", &self.abuse),
            ("support", &self.support),
            ("security", &self.security),
            ("feedback", &self.feedback),
            ("sales", &self.sales),
        ]
    }

    /// Every address that is not a usable URI of an allowed scheme, with its key.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (key, list) in self.lists() {
            for (i, uri) in list.iter().enumerate() {
                if let Some(reason) = uri_problem(uri) {
                    problems.push(format!("contact.{key}[{i}]: {uri:?} {reason}"));
                }
            }
        }
        problems
    }
}

fn uri_problem(uri: &str) -> Option<&'static str> {
    let Some(scheme) = CONTACT_SCHEMES.iter().find(|s| uri.starts_with(**s)) else {
        return Some("must start with xmpp:, mailto: or https:");
    };
    let rest = &uri[scheme.len()..];
    if uri.len() > MAX_URI_LEN {
        return Some("is too long");
    }
    if rest.is_empty() || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("must be a URI without spaces");
    }
    let ok = match *scheme {
        "xmpp:" => true,
        "mailto:" => rest.split('?').next().is_some_and(|a| a.contains('@')),
        _ => rest.starts_with("//") && rest.len() > 2,
    };
    (!ok).then_some(match *scheme {
        "mailto:" => "must name a mail address (mailto:user@host)",
        _ => "must name a host (https://host/...)",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_three_schemes() {
        let contact = Contact {
            admin: vec!["xmpp:alice@example.test".into()],
            abuse: vec!["mailto:abuse@example.test".into()],
            support: vec!["https://example.test/help".into()],
            ..Contact::default()
        };
        assert_eq!(contact.problems(), Vec::<String>::new());
    }

    #[test]
    fn refuses_other_schemes_and_malformed_uris() {
        let contact = Contact {
            admin: vec!["alice@example.test".into()],
            abuse: vec!["http://example.test".into(), "mailto:nobody".into()],
            security: vec!["https:// spaces".into(), "https:".into()],
            ..Contact::default()
        };
        let problems = contact.problems();
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(
            problems[0].starts_with("contact.admin[0]: \"alice@example.test\" must start with")
        );
        assert!(problems[2].contains("mailto:user@host"), "{problems:?}");
    }
}
