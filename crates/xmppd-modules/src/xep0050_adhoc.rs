//! XEP-0050: Ad-Hoc Commands. The `<command/>` element, the listing in disco#items, the
//! execution flow (execute, next/complete with a form, cancel) and a bounded store of the
//! sessions of multi-stage commands. What a command does is up to its caller.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use jid::Jid;
use minidom::Element;
use xmpp_parsers::data_forms::DataForm;
use xmpp_parsers::disco::{DiscoItemsResult, Item};
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xso::{AsXml, AsXmlText, FromXml, FromXmlText};

/// The ad-hoc commands namespace, also the disco#items node that lists the commands.
pub const NS: &str = "http://jabber.org/protocol/commands";

/// What the requester asks a command to do (§3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Execute,
    Next,
    Prev,
    Complete,
    Cancel,
}

impl FromXmlText for Action {
    fn from_xml_text(data: String) -> Result<Self, xso::error::Error> {
        Ok(match data.as_str() {
            "execute" => Action::Execute,
            "next" => Action::Next,
            "prev" => Action::Prev,
            "complete" => Action::Complete,
            "cancel" => Action::Cancel,
            _ => return Err(xso::error::Error::Other("unknown ad-hoc action")),
        })
    }
}

impl AsXmlText for Action {
    fn as_xml_text(&self) -> Result<Cow<'_, str>, xso::error::Error> {
        Ok(Cow::Borrowed(match self {
            Action::Execute => "execute",
            Action::Next => "next",
            Action::Prev => "prev",
            Action::Complete => "complete",
            Action::Cancel => "cancel",
        }))
    }
}

/// Where a command's session stands after a response (§3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Executing,
    Completed,
    Canceled,
}

impl FromXmlText for Status {
    fn from_xml_text(data: String) -> Result<Self, xso::error::Error> {
        Ok(match data.as_str() {
            "executing" => Status::Executing,
            "completed" => Status::Completed,
            "canceled" => Status::Canceled,
            _ => return Err(xso::error::Error::Other("unknown ad-hoc status")),
        })
    }
}

impl AsXmlText for Status {
    fn as_xml_text(&self) -> Result<Cow<'_, str>, xso::error::Error> {
        Ok(Cow::Borrowed(match self {
            Status::Executing => "executing",
            Status::Completed => "completed",
            Status::Canceled => "canceled",
        }))
    }
}

/// The actions a requester may take next; `execute` names the default.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "actions")]
pub struct Actions {
    #[xml(attribute(default))]
    pub execute: Option<Action>,
    #[xml(flag)]
    pub prev: bool,
    #[xml(flag)]
    pub next: bool,
    #[xml(flag)]
    pub complete: bool,
}

/// A note for the person running the command (§3.4), e.g. "User created".
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "note")]
pub struct Note {
    /// `info`, `warn` or `error`.
    #[xml(attribute(name = "type", default))]
    pub type_: Option<String>,
    #[xml(text)]
    pub text: String,
}

impl Note {
    pub fn info(text: &str) -> Self {
        Self {
            type_: Some("info".into()),
            text: text.into(),
        }
    }

    pub fn error(text: &str) -> Self {
        Self {
            type_: Some("error".into()),
            text: text.into(),
        }
    }
}

/// The `<command/>` element, in requests and responses alike.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]
#[xml(namespace = NS, name = "command")]
pub struct Command {
    #[xml(attribute)]
    pub node: String,
    #[xml(attribute(default))]
    pub sessionid: Option<String>,
    #[xml(attribute(default))]
    pub action: Option<Action>,
    #[xml(attribute(default))]
    pub status: Option<Status>,
    #[xml(child(default))]
    pub actions: Option<Actions>,
    #[xml(child(n = ..))]
    pub notes: Vec<Note>,
    #[xml(child(default))]
    pub form: Option<DataForm>,
}

impl Command {
    /// A response in the `executing` state: a form to fill in and submit with `complete`.
    pub fn executing(node: &str, sessionid: &str, form: DataForm) -> Self {
        Self {
            node: node.into(),
            sessionid: Some(sessionid.into()),
            action: None,
            status: Some(Status::Executing),
            actions: Some(Actions {
                execute: Some(Action::Complete),
                prev: false,
                next: false,
                complete: true,
            }),
            notes: Vec::new(),
            form: Some(form),
        }
    }

    /// A final response, with a note and/or a result form.
    pub fn completed(
        node: &str,
        sessionid: Option<&str>,
        note: Option<Note>,
        form: Option<DataForm>,
    ) -> Self {
        Self {
            node: node.into(),
            sessionid: sessionid.map(Into::into),
            action: None,
            status: Some(Status::Completed),
            actions: None,
            notes: note.into_iter().collect(),
            form,
        }
    }

    /// The answer to a `cancel` (§3.4.4).
    pub fn canceled(node: &str, sessionid: &str) -> Self {
        Self {
            status: Some(Status::Canceled),
            ..Self::completed(node, Some(sessionid), None, None)
        }
    }

    /// The requested action; none means `execute` (§3.4).
    pub fn requested(&self) -> Action {
        self.action.unwrap_or(Action::Execute)
    }
}

/// Parse a request payload.
pub fn parse(payload: Element) -> Result<Command, AdhocError> {
    Command::try_from(payload).map_err(|e| AdhocError::Malformed(e.to_string()))
}

/// A command as listed in disco#items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    pub node: &'static str,
    pub name: &'static str,
}

/// disco#items of the commands node (§3.2): one item per command the requester may run.
pub fn items(service: &Jid, commands: &[CommandInfo]) -> DiscoItemsResult {
    DiscoItemsResult {
        node: Some(NS.to_owned()),
        items: commands
            .iter()
            .map(|c| Item {
                jid: service.clone(),
                node: Some(c.node.to_owned()),
                name: Some(c.name.to_owned()),
            })
            .collect(),
        rsm: None,
    }
}

/// Why a command request was refused (§4.6); each maps to one stanza error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdhocError {
    #[error("malformed command: {0}")]
    Malformed(String),
    #[error("only the server's admins may run this command")]
    Forbidden,
    #[error("no command {0:?}")]
    UnknownNode(String),
    #[error("unknown or expired session")]
    BadSession,
    #[error("action not possible at this stage")]
    BadAction,
    #[error("too many commands in progress, finish or cancel one")]
    TooManySessions,
    #[error("{0}")]
    BadPayload(String),
}

impl AdhocError {
    /// The stanza error type and condition (§4.6).
    pub fn condition(&self) -> (ErrorType, DefinedCondition) {
        match self {
            AdhocError::Malformed(_) | AdhocError::BadAction | AdhocError::BadPayload(_) => {
                (ErrorType::Modify, DefinedCondition::BadRequest)
            }
            AdhocError::Forbidden => (ErrorType::Auth, DefinedCondition::Forbidden),
            AdhocError::UnknownNode(_) => (ErrorType::Cancel, DefinedCondition::ItemNotFound),
            AdhocError::BadSession => (ErrorType::Modify, DefinedCondition::NotAllowed),
            AdhocError::TooManySessions => (ErrorType::Wait, DefinedCondition::ResourceConstraint),
        }
    }

    /// The §4.6 application condition that goes with the stanza error, if any.
    pub fn specific(&self) -> Option<Element> {
        let name = match self {
            AdhocError::Malformed(_) => "malformed-action",
            AdhocError::BadAction => "bad-action",
            AdhocError::BadPayload(_) => "bad-payload",
            AdhocError::BadSession => "session-expired",
            _ => return None,
        };
        Some(Element::builder(name, NS).build())
    }
}

/// One multi-stage command in progress.
#[derive(Debug)]
struct Pending<S> {
    owner: String,
    node: String,
    started: Instant,
    state: S,
}

/// The sessions of multi-stage commands, bounded in number (per owner and in total) and age.
#[derive(Debug)]
pub struct Sessions<S> {
    pending: HashMap<String, Pending<S>>,
    max_total: usize,
    max_per_owner: usize,
    max_age: Duration,
}

impl<S> Sessions<S> {
    pub fn new(max_total: usize, max_per_owner: usize, max_age: Duration) -> Self {
        Self {
            pending: HashMap::new(),
            max_total,
            max_per_owner,
            max_age,
        }
    }

    fn expire(&mut self, now: Instant) {
        let max_age = self.max_age;
        self.pending
            .retain(|_, p| now.saturating_duration_since(p.started) < max_age);
    }

    /// Keeps `state` under the new session `id` for `owner` (a full JID: the session belongs
    /// to the resource that started it).
    pub fn start(
        &mut self,
        id: String,
        owner: &str,
        node: &str,
        state: S,
        now: Instant,
    ) -> Result<(), AdhocError> {
        self.expire(now);
        let owned = self.pending.values().filter(|p| p.owner == owner).count();
        if self.pending.len() >= self.max_total || owned >= self.max_per_owner {
            return Err(AdhocError::TooManySessions);
        }
        let pending = Pending {
            owner: owner.into(),
            node: node.into(),
            started: now,
            state,
        };
        self.pending.insert(id, pending);
        Ok(())
    }

    /// Is `id` a live session of `owner` for `node`? (It stays open.)
    pub fn check(
        &mut self,
        id: &str,
        owner: &str,
        node: &str,
        now: Instant,
    ) -> Result<(), AdhocError> {
        self.expire(now);
        match self.pending.get(id) {
            Some(p) if p.owner == owner && p.node == node => Ok(()),
            _ => Err(AdhocError::BadSession),
        }
    }

    /// Ends the session `id` and returns its state, if `owner` started it for `node` and it has
    /// not expired. Someone else's session is reported as unknown, revealing nothing.
    pub fn finish(
        &mut self,
        id: &str,
        owner: &str,
        node: &str,
        now: Instant,
    ) -> Result<S, AdhocError> {
        self.check(id, owner, node, now)?;
        self.pending
            .remove(id)
            .map(|p| p.state)
            .ok_or(AdhocError::BadSession)
    }

    /// Number of sessions in progress (expired ones included until the next call).
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
#[path = "xep0050_adhoc_tests.rs"]
mod tests;
