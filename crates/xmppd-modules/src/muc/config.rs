//! XEP-0045 §10.2: the `muc#roomconfig` form, its defaults and how a submitted form changes a
//! room's configuration.

use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType, Option_};

use super::MucError;

/// FORM_TYPE of the room configuration form.
pub const ROOMCONFIG: &str = "http://jabber.org/protocol/muc#roomconfig";

/// Longest room name or description accepted, in bytes.
const MAX_TEXT: usize = 1024;
/// Longest room password accepted, in bytes.
const MAX_PASSWORD: usize = 256;

/// Who may see occupants' real JIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whois {
    /// Semi-anonymous: moderators only.
    Moderators,
    /// Non-anonymous: everyone.
    Anyone,
}

/// A room's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomConfig {
    pub name: String,
    pub description: String,
    /// Survives its last occupant leaving, and a restart.
    pub persistent: bool,
    /// Listed in the service's disco#items; a hidden room is not.
    pub public: bool,
    pub members_only: bool,
    /// Only participants (members and above, or voiced occupants) may speak.
    pub moderated: bool,
    /// A password to enter; `None` for none.
    pub password: Option<String>,
    pub whois: Whois,
    /// Participants (not only moderators) may change the subject.
    pub change_subject: bool,
    /// Occupants (not only admins) may send mediated invitations.
    pub allow_invites: bool,
    /// Messages kept for history on join; at most the service's `max_history`.
    pub history_length: u32,
}

impl RoomConfig {
    /// The defaults of a new room: temporary, public, open, unmoderated, semi-anonymous.
    pub fn new(default_history: u32) -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            persistent: false,
            public: true,
            members_only: false,
            moderated: false,
            password: None,
            whois: Whois::Moderators,
            change_subject: false,
            allow_invites: true,
            history_length: default_history,
        }
    }

    /// The form an owner fills in (type `form`), showing the current values.
    pub fn to_form(&self, max_history: u32) -> DataForm {
        let mut form = self.to_data(DataFormType::Form);
        form.title = Some("Room configuration".to_owned());
        form.instructions = Some(format!(
            "History is kept for at most {max_history} messages."
        ));
        if let Some(whois) = form
            .fields
            .iter_mut()
            .find(|f| f.var.as_deref() == Some("muc#roomconfig_whois"))
        {
            whois.options = ["moderators", "anyone"]
                .iter()
                .map(|v| Option_ {
                    label: None,
                    value: (*v).to_owned(),
                })
                .collect();
        }
        form
    }

    /// The configuration as a `submit` form: also how a persistent room's configuration is
    /// stored, so the stored text is the same form an owner would send.
    pub fn to_data(&self, type_: DataFormType) -> DataForm {
        let boolean = |var: &str, value: bool| {
            Field::new(var, FieldType::Boolean).with_value(if value { "1" } else { "0" })
        };
        let fields = vec![
            Field::text_single("muc#roomconfig_roomname", &self.name),
            Field::text_single("muc#roomconfig_roomdesc", &self.description),
            boolean("muc#roomconfig_persistentroom", self.persistent),
            boolean("muc#roomconfig_publicroom", self.public),
            boolean("muc#roomconfig_membersonly", self.members_only),
            boolean("muc#roomconfig_moderatedroom", self.moderated),
            boolean(
                "muc#roomconfig_passwordprotectedroom",
                self.password.is_some(),
            ),
            Field::new("muc#roomconfig_roomsecret", FieldType::TextPrivate)
                .with_value(self.password.as_deref().unwrap_or_default()),
            Field::new("muc#roomconfig_whois", FieldType::ListSingle).with_value(
                match self.whois {
                    Whois::Moderators => "moderators",
                    Whois::Anyone => "anyone",
                },
            ),
            boolean("muc#roomconfig_changesubject", self.change_subject),
            boolean("muc#roomconfig_allowinvites", self.allow_invites),
            Field::text_single(
                "muc#roomconfig_historylength",
                &self.history_length.to_string(),
            ),
        ];
        DataForm::new(type_, ROOMCONFIG, fields)
    }

    /// Applies a submitted form: fields it leaves out keep their value. A password-protected
    /// room needs a password; history is bounded by `max_history`.
    pub fn apply(&mut self, form: &DataForm, max_history: u32) -> Result<(), MucError> {
        if form.type_ == DataFormType::Cancel {
            return Ok(());
        }
        if form.type_ != DataFormType::Submit {
            return Err(MucError::BadForm("the form must be of type submit"));
        }
        if form.form_type().is_some_and(|t| t != ROOMCONFIG) {
            return Err(MucError::BadForm("FORM_TYPE is not muc#roomconfig"));
        }
        let mut next = self.clone();
        let mut protected = None;
        let mut secret = None;
        for field in &form.fields {
            let Some(var) = field.var.as_deref() else {
                continue;
            };
            let value = field.values.first().map(String::as_str).unwrap_or_default();
            let flag = || parse_bool(value);
            match var {
                "muc#roomconfig_roomname" => next.name = bounded(value, MAX_TEXT)?,
                "muc#roomconfig_roomdesc" => next.description = bounded(value, MAX_TEXT)?,
                "muc#roomconfig_persistentroom" => next.persistent = flag()?,
                "muc#roomconfig_publicroom" => next.public = flag()?,
                "muc#roomconfig_membersonly" => next.members_only = flag()?,
                "muc#roomconfig_moderatedroom" => next.moderated = flag()?,
                "muc#roomconfig_passwordprotectedroom" => protected = Some(flag()?),
                "muc#roomconfig_roomsecret" => secret = Some(bounded(value, MAX_PASSWORD)?),
                "muc#roomconfig_whois" => {
                    next.whois = match value {
                        "moderators" => Whois::Moderators,
                        "anyone" => Whois::Anyone,
                        _ => return Err(MucError::BadForm("whois is moderators or anyone")),
                    }
                }
                "muc#roomconfig_changesubject" => next.change_subject = flag()?,
                "muc#roomconfig_allowinvites" => next.allow_invites = flag()?,
                "muc#roomconfig_historylength" | "muc#maxhistoryfetch" => {
                    let n: u32 = value
                        .parse()
                        .map_err(|_| MucError::BadForm("history length is a number"))?;
                    next.history_length = n.min(max_history);
                }
                _ => {}
            }
        }
        let secret = secret.or_else(|| next.password.clone());
        next.password = match (protected.unwrap_or(next.password.is_some()), secret) {
            (true, Some(s)) if !s.is_empty() => Some(s),
            (true, _) => {
                return Err(MucError::BadForm(
                    "a password-protected room needs a secret",
                ));
            }
            (false, _) => None,
        };
        *self = next;
        Ok(())
    }
}

fn parse_bool(value: &str) -> Result<bool, MucError> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" | "" => Ok(false),
        _ => Err(MucError::BadForm("a boolean field is 0, 1, true or false")),
    }
}

fn bounded(value: &str, max: usize) -> Result<String, MucError> {
    if value.len() > max {
        return Err(MucError::BadForm("a text field is too long"));
    }
    Ok(value.to_owned())
}
