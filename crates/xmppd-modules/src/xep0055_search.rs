//! XEP-0055: Jabber Search, an opt-in user directory on the server's JID. A user is listed
//! only while their vCard (XEP-0054) says `<CLASS><PUBLIC/></CLASS>`; searches match the
//! username or nickname, with the legacy `<nick/>` field or the data form, and return a bounded
//! number of results.

use jid::BareJid;
use minidom::Element;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType};
use xmpp_parsers::ns;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xso::{AsXml, FromXml};

/// The search namespace, also the disco#info feature and the form's FORM_TYPE.
pub const NS: &str = "jabber:iq:search";

/// Most results one search returns.
pub const MAX_RESULTS: u32 = 30;

/// Longest nickname kept in the directory, in characters.
const MAX_NICK_CHARS: usize = 64;

/// Longest search text accepted, in characters.
const MAX_NEEDLE_CHARS: usize = 64;

/// A request, or the answer to a get: the legacy fields and/or a form.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "query")]
pub struct Query {
    #[xml(extract(default, fields(text(type_ = String))))]
    pub instructions: Option<String>,
    #[xml(extract(default, fields(text(type_ = String))))]
    pub first: Option<String>,
    #[xml(extract(default, fields(text(type_ = String))))]
    pub last: Option<String>,
    #[xml(extract(default, fields(text(type_ = String))))]
    pub nick: Option<String>,
    #[xml(extract(default, fields(text(type_ = String))))]
    pub email: Option<String>,
    #[xml(child(default))]
    pub form: Option<DataForm>,
}

/// One legacy result.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "item")]
pub struct Item {
    #[xml(attribute)]
    pub jid: BareJid,
    #[xml(extract(default, fields(text(type_ = String))))]
    pub nick: Option<String>,
}

/// `<reported/>` of a result form: the columns.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = ns::DATA_FORMS, name = "reported")]
pub struct Reported {
    #[xml(child(n = ..))]
    pub fields: Vec<Field>,
}

/// One row of a result form.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = ns::DATA_FORMS, name = "item")]
pub struct Row {
    #[xml(child(n = ..))]
    pub fields: Vec<Field>,
}

/// A XEP-0004 §3.4 result form with a table (xmpp-parsers' form has no `<reported/>`).
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = ns::DATA_FORMS, name = "x")]
pub struct ResultTable {
    #[xml(attribute = "type")]
    pub type_: DataFormType,
    #[xml(child(n = ..))]
    pub fields: Vec<Field>,
    #[xml(child)]
    pub reported: Reported,
    #[xml(child(n = ..))]
    pub rows: Vec<Row>,
}

/// The answer to a search.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "query")]
pub struct Results {
    #[xml(child(n = ..))]
    pub items: Vec<Item>,
    #[xml(child(default))]
    pub table: Option<ResultTable>,
}

/// Why a search was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("malformed search: {0}")]
    Malformed(String),
    #[error("give a username or nickname (1 to {MAX_NEEDLE_CHARS} characters) to search for")]
    NoCriteria,
}

impl SearchError {
    pub fn condition(&self) -> (ErrorType, DefinedCondition) {
        (ErrorType::Modify, DefinedCondition::BadRequest)
    }
}

/// The nickname to list the vCard's owner under, or `None` when they did not opt in.
pub fn listing(vcard: &Element, username: &str) -> Option<String> {
    let public = vcard
        .get_child("CLASS", ns::VCARD)
        .is_some_and(|c| c.get_child("PUBLIC", ns::VCARD).is_some());
    if !public {
        return None;
    }
    let text = |name: &str| {
        vcard
            .get_child(name, ns::VCARD)
            .map(|e| e.text().trim().to_owned())
            .filter(|t| !t.is_empty())
    };
    let nick = text("NICKNAME")
        .or_else(|| text("FN"))
        .unwrap_or_else(|| username.to_owned());
    Some(nick.chars().take(MAX_NICK_CHARS).collect())
}

/// The answer to a get (§2): instructions, the legacy `<nick/>` and the form.
pub fn fields() -> Query {
    let mut form = DataForm::new(
        DataFormType::Form,
        NS,
        vec![
            labelled(Field::new("username", FieldType::TextSingle), "Username"),
            labelled(Field::new("nick", FieldType::TextSingle), "Nickname"),
        ],
    );
    form.instructions = Some(instructions().to_owned());
    Query {
        instructions: Some(instructions().to_owned()),
        first: None,
        last: None,
        nick: Some(String::new()),
        email: None,
        form: Some(form),
    }
}

fn instructions() -> &'static str {
    "Find users who chose to be listed (vCard class PUBLIC) by username or nickname."
}

fn labelled(mut field: Field, label: &str) -> Field {
    field.label = Some(label.to_owned());
    field
}

/// What a search looks for, and whether the answer is a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub needle: String,
    pub as_form: bool,
}

/// Parse a set (§2 legacy fields or §3 form).
pub fn parse_set(payload: Element) -> Result<Search, SearchError> {
    let query = Query::try_from(payload).map_err(|e| SearchError::Malformed(e.to_string()))?;
    let (text, as_form) = match &query.form {
        Some(form) => {
            let value = |var: &str| {
                form.fields
                    .iter()
                    .find(|f| f.var.as_deref() == Some(var))
                    .and_then(|f| f.values.first().cloned())
                    .filter(|v| !v.trim().is_empty())
            };
            (value("nick").or_else(|| value("username")), true)
        }
        None => (query.nick.clone().filter(|v| !v.trim().is_empty()), false),
    };
    let needle = text.ok_or(SearchError::NoCriteria)?.trim().to_owned();
    if needle.chars().count() > MAX_NEEDLE_CHARS {
        return Err(SearchError::NoCriteria);
    }
    Ok(Search { needle, as_form })
}

/// The answer: legacy items, or a result table when the search came as a form.
pub fn answer(found: Vec<(BareJid, String)>, as_form: bool) -> Results {
    if !as_form {
        let items = found
            .into_iter()
            .map(|(jid, nick)| Item {
                jid,
                nick: Some(nick),
            })
            .collect();
        return Results { items, table: None };
    }
    let column = |var: &str, type_: FieldType, label: &str| labelled(Field::new(var, type_), label);
    let rows = found
        .into_iter()
        .map(|(jid, nick)| Row {
            fields: vec![
                Field::new("jid", FieldType::JidSingle).with_value(jid.as_str()),
                Field::new("nick", FieldType::TextSingle).with_value(&nick),
            ],
        })
        .collect();
    let mut form_type = Field::new("FORM_TYPE", FieldType::Hidden).with_value(NS);
    form_type.label = None;
    Results {
        items: Vec::new(),
        table: Some(ResultTable {
            type_: DataFormType::Result_,
            fields: vec![form_type],
            reported: Reported {
                fields: vec![
                    column("jid", FieldType::JidSingle, "JID"),
                    column("nick", FieldType::TextSingle, "Nickname"),
                ],
            },
            rows,
        }),
    }
}

#[cfg(test)]
#[path = "xep0055_search_tests.rs"]
mod tests;
