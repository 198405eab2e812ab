//! XEP-0077: In-Band Registration. Parses and validates the register forms (the legacy fields
//! and the XEP-0004 data form), password changes and `<remove/>`; the caller does storage.

use jid::{BareJid, NodePart};
use minidom::Element;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType};
use xmpp_parsers::ibr::{FormQuery, LegacyQuery};
use xmpp_parsers::ns;

use crate::Error;

/// Who is asking: before authentication only registration is possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// An unauthenticated stream (registration of a new account).
    Anonymous,
    /// A logged-in account (password change, cancellation).
    Account(BareJid),
}

/// What the operator allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// New accounts may register in band.
    pub open: bool,
    /// The `<instructions/>` shown to registering clients.
    pub instructions: String,
}

/// A validated registration request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Create this account (§3.1). The username is normalised (nodeprep).
    Register {
        /// Normalised localpart.
        username: String,
        /// Password as given; the caller derives the SCRAM credentials.
        password: String,
    },
    /// Change the logged-in account's password (§3.3).
    ChangePassword {
        /// New password.
        password: String,
    },
    /// Delete the logged-in account (§3.2).
    Remove,
}

/// The answer to a get: which fields to fill in (§3.1), or the current registration of a
/// logged-in account (§3.2: `<registered/>` with the username).
pub fn fields(requester: &Requester, policy: &Policy) -> Result<LegacyQuery, Error> {
    match requester {
        Requester::Anonymous if !policy.open => Err(Error::RegisterDisabled),
        Requester::Anonymous => Ok(LegacyQuery {
            instructions: Some(policy.instructions.clone()),
            username: Some(String::new()),
            password: Some(String::new()),
            ..LegacyQuery::default()
        }),
        Requester::Account(jid) => Ok(LegacyQuery {
            registered: true,
            username: jid.node().map(|n| n.as_str().to_owned()),
            password: Some(String::new()),
            ..LegacyQuery::default()
        }),
    }
}

/// Username and password from either the legacy fields or a submitted data form.
fn credentials(payload: &Element) -> Result<(Option<String>, Option<String>), Error> {
    let bad = |e: xmpp_parsers::FromElementError| Error::ParsePayload {
        what: "jabber:iq:register query",
        reason: e.to_string(),
    };
    if payload.has_child("x", ns::DATA_FORMS) {
        let form = FormQuery::try_from(payload.clone()).map_err(bad)?.form;
        let value = |var: &str| {
            form.fields
                .iter()
                .find(|f| f.var.as_deref() == Some(var))
                .and_then(|f| f.values.first().cloned())
        };
        return Ok((value("username"), value("password")));
    }
    let legacy = LegacyQuery::try_from(payload.clone()).map_err(bad)?;
    Ok((legacy.username, legacy.password))
}

fn required(value: Option<String>, name: &'static str) -> Result<String, Error> {
    value
        .filter(|v| !v.is_empty())
        .ok_or(Error::RegisterMissingField(name))
}

/// Validate a set from `requester`.
pub fn parse_set(
    requester: &Requester,
    policy: &Policy,
    payload: Element,
) -> Result<Request, Error> {
    if !payload.is("query", ns::REGISTER) {
        return Err(Error::unexpected_element(
            "jabber:iq:register query",
            &payload,
        ));
    }
    if payload.has_child("remove", ns::REGISTER) {
        return match requester {
            Requester::Account(_) => Ok(Request::Remove),
            Requester::Anonymous => Err(Error::RegisterRemoveUnauthenticated),
        };
    }
    let (username, password) = credentials(&payload)?;
    match requester {
        Requester::Anonymous => {
            if !policy.open {
                return Err(Error::RegisterDisabled);
            }
            let username = required(username, "username")?;
            let password = required(password, "password")?;
            let node = NodePart::new(&username)
                .map_err(|_| Error::RegisterBadUsername(username.clone()))?;
            Ok(Request::Register {
                username: node.as_str().to_owned(),
                password,
            })
        }
        Requester::Account(jid) => {
            // §3.3: the username, when given, must be the account's own.
            if let Some(name) = username.filter(|n| !n.is_empty())
                && jid
                    .node()
                    .is_none_or(|n| NodePart::new(&name).ok().as_deref() != Some(n))
            {
                return Err(Error::RegisterOtherAccount);
            }
            Ok(Request::ChangePassword {
                password: required(password, "password")?,
            })
        }
    }
}

/// The same fields as a XEP-0004 form, for clients that prefer forms (§6).
pub fn fields_form(policy: &Policy) -> FormQuery {
    let mut password = Field::new("password", FieldType::TextPrivate);
    password.required = true;
    let mut username = Field::new("username", FieldType::TextSingle);
    username.required = true;
    FormQuery {
        instructions: Some(policy.instructions.clone()),
        form: DataForm::new(DataFormType::Form, ns::REGISTER, vec![username, password]),
    }
}

#[cfg(test)]
#[path = "xep0077_register_tests.rs"]
mod tests;
