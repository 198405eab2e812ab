//! XEP-0133: Service Administration, the admin commands run through XEP-0050: their nodes,
//! the forms they show and what a submitted form asks for. The server carries requests out.

use jid::{BareJid, Jid};
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType, Option_};

use crate::xep0050_adhoc::{AdhocError, CommandInfo};

/// FORM_TYPE of every admin form (§4).
pub const FORM_TYPE: &str = "http://jabber.org/protocol/admin";

/// Most accounts one command acts on.
pub const MAX_JIDS: usize = 100;

/// Longest text (announcement, MOTD, subject) accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 8 * 1024;

/// The admin commands this server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminCommand {
    AddUser,
    DeleteUser,
    ChangeUserPassword,
    EndUserSession,
    GetOnlineUsers,
    GetOnlineUsersNum,
    Announce,
    SetMotd,
    EditMotd,
    DeleteMotd,
}

impl AdminCommand {
    pub const ALL: [AdminCommand; 10] = [
        AdminCommand::AddUser,
        AdminCommand::DeleteUser,
        AdminCommand::ChangeUserPassword,
        AdminCommand::EndUserSession,
        AdminCommand::GetOnlineUsers,
        AdminCommand::GetOnlineUsersNum,
        AdminCommand::Announce,
        AdminCommand::SetMotd,
        AdminCommand::EditMotd,
        AdminCommand::DeleteMotd,
    ];

    /// The command's node and its name in disco#items.
    pub fn info(self) -> CommandInfo {
        let (node, name) = match self {
            AdminCommand::AddUser => ("http://jabber.org/protocol/admin#add-user", "Add User"),
            AdminCommand::DeleteUser => (
                "http://jabber.org/protocol/admin#delete-user",
                "Delete User",
            ),
            AdminCommand::ChangeUserPassword => (
                "http://jabber.org/protocol/admin#change-user-password",
                "Change User Password",
            ),
            AdminCommand::EndUserSession => (
                "http://jabber.org/protocol/admin#end-user-session",
                "End User Session",
            ),
            AdminCommand::GetOnlineUsers => (
                "http://jabber.org/protocol/admin#get-online-users",
                "Get List of Online Users",
            ),
            AdminCommand::GetOnlineUsersNum => (
                "http://jabber.org/protocol/admin#get-online-users-num",
                "Get Number of Online Users",
            ),
            AdminCommand::Announce => (
                "http://jabber.org/protocol/admin#announce",
                "Send Announcement to Online Users",
            ),
            AdminCommand::SetMotd => (
                "http://jabber.org/protocol/admin#set-motd",
                "Set Message of the Day",
            ),
            AdminCommand::EditMotd => (
                "http://jabber.org/protocol/admin#edit-motd",
                "Edit Message of the Day",
            ),
            AdminCommand::DeleteMotd => (
                "http://jabber.org/protocol/admin#delete-motd",
                "Delete Message of the Day",
            ),
        };
        CommandInfo { node, name }
    }

    pub fn from_node(node: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.info().node == node)
    }

    /// The form the first `execute` shows, or `None` for commands that run at once.
    /// `motd` is the current message of the day (edit-motd shows it).
    pub fn form(self, motd: Option<&str>) -> Option<DataForm> {
        let fields = match self {
            AdminCommand::AddUser => vec![
                required(
                    Field::new("accountjid", FieldType::JidSingle),
                    "The Jabber ID for the account to be added",
                ),
                required(
                    Field::new("password", FieldType::TextPrivate),
                    "The password for this account",
                ),
                required(
                    Field::new("password-verify", FieldType::TextPrivate),
                    "Retype password",
                ),
            ],
            AdminCommand::DeleteUser => vec![required(
                Field::new("accountjids", FieldType::JidMulti),
                "The Jabber ID(s) to delete",
            )],
            AdminCommand::EndUserSession => vec![required(
                Field::new("accountjids", FieldType::JidMulti),
                "The Jabber ID(s) whose sessions end",
            )],
            AdminCommand::ChangeUserPassword => vec![
                required(
                    Field::new("accountjid", FieldType::JidSingle),
                    "The Jabber ID for this account",
                ),
                required(
                    Field::new("password", FieldType::TextPrivate),
                    "The new password for this account",
                ),
            ],
            AdminCommand::GetOnlineUsers => {
                let mut max = labelled(
                    Field::new("max_items", FieldType::ListSingle),
                    "Maximum number of items to show",
                );
                max.options = ["25", "50", "75", "100"]
                    .iter()
                    .map(|v| Option_ {
                        label: Some((*v).into()),
                        value: (*v).into(),
                    })
                    .collect();
                vec![max.with_value("100")]
            }
            AdminCommand::Announce | AdminCommand::SetMotd | AdminCommand::EditMotd => {
                let mut body = required(
                    Field::new("announcement", FieldType::TextMulti),
                    "Announcement",
                );
                if self == AdminCommand::EditMotd {
                    body.values = motd
                        .map(|m| m.lines().map(str::to_owned).collect())
                        .unwrap_or_default();
                }
                vec![
                    labelled(Field::new("subject", FieldType::TextSingle), "Subject"),
                    body,
                ]
            }
            AdminCommand::GetOnlineUsersNum | AdminCommand::DeleteMotd => return None,
        };
        let mut form = DataForm::new(DataFormType::Form, FORM_TYPE, fields);
        form.title = Some(self.info().name.to_owned());
        Some(form)
    }
}

fn labelled(mut field: Field, label: &str) -> Field {
    field.label = Some(label.to_owned());
    field
}

fn required(field: Field, label: &str) -> Field {
    let mut field = labelled(field, label);
    field.required = true;
    field
}

/// What a command, with its submitted form (if it has one), asks the server to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    AddUser {
        jid: BareJid,
        password: String,
    },
    DeleteUsers(Vec<BareJid>),
    ChangePassword {
        jid: BareJid,
        password: String,
    },
    EndSessions(Vec<Jid>),
    OnlineUsers {
        max: usize,
    },
    OnlineUsersNum,
    Announce {
        subject: Option<String>,
        body: String,
    },
    SetMotd(String),
    DeleteMotd,
}

/// The request of `command`; `form` is the submitted form (ignored by commands without one).
pub fn request(command: AdminCommand, form: Option<&DataForm>) -> Result<Request, AdhocError> {
    let get =
        |var: &str| form.and_then(|f| f.fields.iter().find(|x| x.var.as_deref() == Some(var)));
    let values = |var: &str| get(var).map(|f| f.values.clone()).unwrap_or_default();
    let single = |var: &str| values(var).into_iter().next().filter(|v| !v.is_empty());
    let need = |var: &'static str| single(var).ok_or_else(|| missing(var));
    if form.is_none() && command.form(None).is_some() {
        return Err(AdhocError::BadPayload("the command needs its form".into()));
    }
    if form.is_some_and(|f| f.type_ != DataFormType::Submit) {
        return Err(AdhocError::BadPayload(
            "the form must be of type submit".into(),
        ));
    }
    Ok(match command {
        AdminCommand::AddUser => {
            let password = need("password")?;
            if single("password-verify").is_some_and(|v| v != password) {
                return Err(AdhocError::BadPayload("the passwords do not match".into()));
            }
            Request::AddUser {
                jid: bare(&need("accountjid")?)?,
                password,
            }
        }
        AdminCommand::ChangeUserPassword => Request::ChangePassword {
            jid: bare(&need("accountjid")?)?,
            password: need("password")?,
        },
        AdminCommand::DeleteUser => Request::DeleteUsers(
            jids(values("accountjids"))?
                .into_iter()
                .map(|j| j.to_bare())
                .collect(),
        ),
        AdminCommand::EndUserSession => Request::EndSessions(jids(values("accountjids"))?),
        AdminCommand::GetOnlineUsers => Request::OnlineUsers {
            max: single("max_items")
                .map(|m| {
                    m.parse::<usize>()
                        .map_err(|_| AdhocError::BadPayload("max_items is not a number".into()))
                })
                .transpose()?
                .unwrap_or(MAX_JIDS)
                .min(MAX_JIDS),
        },
        AdminCommand::GetOnlineUsersNum => Request::OnlineUsersNum,
        AdminCommand::Announce | AdminCommand::SetMotd | AdminCommand::EditMotd => {
            let body = values("announcement").join("\n");
            let subject = single("subject");
            let size = body.len() + subject.as_ref().map_or(0, String::len);
            if body.trim().is_empty() {
                return Err(missing("announcement"));
            }
            if size > MAX_TEXT_BYTES {
                return Err(AdhocError::BadPayload(format!(
                    "the text is longer than {MAX_TEXT_BYTES} bytes"
                )));
            }
            if command == AdminCommand::Announce {
                Request::Announce { subject, body }
            } else {
                Request::SetMotd(body)
            }
        }
        AdminCommand::DeleteMotd => Request::DeleteMotd,
    })
}

fn missing(var: &str) -> AdhocError {
    AdhocError::BadPayload(format!("field {var} is required"))
}

fn bare(text: &str) -> Result<BareJid, AdhocError> {
    let jid = BareJid::new(text.trim())
        .map_err(|_| AdhocError::BadPayload(format!("{text:?} is not a bare JID")))?;
    if jid.node().is_none() {
        return Err(AdhocError::BadPayload(format!("{text:?} names no account")));
    }
    Ok(jid)
}

fn jids(values: Vec<String>) -> Result<Vec<Jid>, AdhocError> {
    let values: Vec<String> = values
        .into_iter()
        .filter(|v| !v.trim().is_empty())
        .collect();
    if values.is_empty() {
        return Err(missing("accountjids"));
    }
    if values.len() > MAX_JIDS {
        return Err(AdhocError::BadPayload(format!(
            "at most {MAX_JIDS} accounts at once"
        )));
    }
    values
        .iter()
        .map(|v| match Jid::new(v.trim()) {
            Ok(jid) if jid.node().is_some() => Ok(jid),
            _ => Err(AdhocError::BadPayload(format!(
                "{v:?} is not an account JID"
            ))),
        })
        .collect()
}

/// The result form of get-online-users (§4.21): the bare JIDs, at most `max`.
pub fn online_users_form(users: &[BareJid], max: usize) -> DataForm {
    let mut field = Field::new("onlineuserjids", FieldType::TextMulti);
    field.label = Some("The list of all online users".into());
    field.values = users.iter().take(max).map(|u| u.to_string()).collect();
    DataForm::new(DataFormType::Result_, FORM_TYPE, vec![field])
}

/// The result form of get-online-users-num (§4.15).
pub fn online_count_form(count: usize) -> DataForm {
    let mut field =
        Field::new("onlineusersnum", FieldType::TextSingle).with_value(&count.to_string());
    field.label = Some("The number of online users".into());
    DataForm::new(DataFormType::Result_, FORM_TYPE, vec![field])
}

#[cfg(test)]
#[path = "xep0133_admin_tests.rs"]
mod tests;
