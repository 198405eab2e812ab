//! XEP-0050 ad-hoc commands on the server's JID, carrying out the XEP-0133 admin set. Only
//! the config's `admins` see the commands (disco#items) and may run them; everyone else is
//! refused with `forbidden` before the node is even looked at.

use super::route;
use crate::server::Server;
use jid::Jid;
use minidom::Element;
use std::sync::Arc;
use std::time::{Duration, Instant};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::{Lang, Message, MessageType};
use xmppd_modules::xep0050_adhoc::{self, Action, AdhocError, Command, Note, Sessions};
use xmppd_modules::xep0133_admin::{self, AdminCommand, Request};

/// Multi-stage commands in progress, in total and per resource, and how long one may stay open.
const MAX_SESSIONS: usize = 256;
const MAX_SESSIONS_PER_RESOURCE: usize = 8;
const SESSION_MAX_AGE: Duration = Duration::from_secs(600);

/// The store of command sessions the server keeps.
pub fn new_sessions() -> Sessions<AdminCommand> {
    Sessions::new(MAX_SESSIONS, MAX_SESSIONS_PER_RESOURCE, SESSION_MAX_AGE)
}

fn requester(iq: &Iq) -> Option<&Jid> {
    match iq {
        Iq::Get { from, .. } | Iq::Set { from, .. } => from.as_ref(),
        _ => None,
    }
}

fn service(iq: &Iq) -> Option<&Jid> {
    match iq {
        Iq::Get { to, .. } | Iq::Set { to, .. } => to.as_ref(),
        _ => None,
    }
}

/// disco#items of the commands node: the admin commands for admins, nothing for others.
pub fn items(server: &Server, iq: &Iq) -> Option<Element> {
    let commands: Vec<_> = match requester(iq) {
        Some(from) if server.is_admin(from) => AdminCommand::ALL.iter().map(|c| c.info()).collect(),
        _ => Vec::new(),
    };
    Some(xep0050_adhoc::items(service(iq)?, &commands).into())
}

/// Answers a `<command/>` set addressed to the server.
pub async fn execute(server: &Arc<Server>, iq: &Iq, payload: Element) {
    let reply = match run(server, iq, payload).await {
        Ok(command) => xmppd_modules::iq::result(iq, Some(command.into())),
        Err(err) => {
            let (type_, condition) = err.condition();
            let mut error =
                xmppd_modules::stanza_error::make(type_, condition, Some(&err.to_string()));
            error.other = err.specific();
            xmppd_modules::stanza_error::iq_error(iq, error)
        }
    };
    if let Some(reply) = reply {
        route(server, reply.into()).await;
    }
}

async fn run(server: &Arc<Server>, iq: &Iq, payload: Element) -> Result<Command, AdhocError> {
    let from = requester(iq).ok_or(AdhocError::Forbidden)?;
    if !server.is_admin(from) {
        return Err(AdhocError::Forbidden);
    }
    let request = xep0050_adhoc::parse(payload)?;
    let command = AdminCommand::from_node(&request.node)
        .ok_or_else(|| AdhocError::UnknownNode(request.node.clone()))?;
    let node = request.node.as_str();
    let owner = from.to_string();
    let now = Instant::now();
    let Some(id) = request.sessionid.as_deref() else {
        if request.requested() != Action::Execute {
            return Err(AdhocError::BadAction);
        }
        let Some(form) = command.form(server.motd().as_deref()) else {
            let done = carry_out(server, iq, xep0133_admin::request(command, None)?).await;
            return Ok(done.finish(node, None));
        };
        let id = session_id();
        lock(server).start(id.clone(), &owner, node, command, now)?;
        return Ok(Command::executing(node, &id, form));
    };
    match request.requested() {
        Action::Cancel => {
            lock(server).finish(id, &owner, node, now)?;
            Ok(Command::canceled(node, id))
        }
        Action::Prev | Action::Next => Err(AdhocError::BadAction),
        Action::Execute | Action::Complete => {
            lock(server).check(id, &owner, node, now)?;
            // A form that does not parse leaves the session open for a corrected one.
            let parsed = xep0133_admin::request(command, request.form.as_ref())?;
            lock(server).finish(id, &owner, node, now)?;
            Ok(carry_out(server, iq, parsed).await.finish(node, Some(id)))
        }
    }
}

fn lock(server: &Server) -> std::sync::MutexGuard<'_, Sessions<AdminCommand>> {
    server.adhoc.lock().unwrap_or_else(|e| e.into_inner())
}

fn session_id() -> String {
    let mut bytes = [0u8; 12];
    // A failed draw leaves zeros: ids then collide, which the store refuses to mix up because
    // each session is also bound to its owner.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a command came to: a note, a result form, or both.
pub(super) struct Outcome {
    note: Option<Note>,
    form: Option<xmpp_parsers::data_forms::DataForm>,
}

impl Outcome {
    pub(super) fn info(text: String) -> Self {
        Self {
            note: Some(Note::info(&text)),
            form: None,
        }
    }

    pub(super) fn error(text: String) -> Self {
        Self {
            note: Some(Note::error(&text)),
            form: None,
        }
    }

    fn finish(self, node: &str, id: Option<&str>) -> Command {
        Command::completed(node, id, self.note, self.form)
    }
}

async fn carry_out(server: &Arc<Server>, iq: &Iq, request: Request) -> Outcome {
    match request {
        Request::AddUser { jid, password } => {
            super::adhoc_accounts::add(server, &jid, &password).await
        }
        Request::ChangePassword { jid, password } => {
            super::adhoc_accounts::change_password(server, &jid, &password).await
        }
        Request::DeleteUsers(jids) => super::adhoc_accounts::delete(server, &jids).await,
        Request::EndSessions(jids) => super::adhoc_accounts::end_sessions(server, &jids),
        Request::OnlineUsers { max } => Outcome {
            note: None,
            form: Some(xep0133_admin::online_users_form(
                &server.router.online_users(),
                max,
            )),
        },
        Request::OnlineUsersNum => Outcome {
            note: None,
            form: Some(xep0133_admin::online_count_form(
                server.router.online_users().len(),
            )),
        },
        Request::Announce { subject, body } => announce(server, iq, subject, &body),
        Request::SetMotd(text) => {
            server.set_motd(Some(text));
            Outcome::info("Message of the day set".into())
        }
        Request::DeleteMotd => {
            server.set_motd(None);
            Outcome::info("Message of the day deleted".into())
        }
    }
}

/// Sends the announcement to every bound session, from the domain the command was sent to.
fn announce(server: &Server, iq: &Iq, subject: Option<String>, body: &str) -> Outcome {
    let Some(domain) = service(iq).map(Jid::to_bare) else {
        return Outcome::error("no service address".into());
    };
    let mut sent = 0usize;
    for session in server.router.all_sessions() {
        let mut message =
            Message::new_with_type(MessageType::Normal, Some(Jid::from(session.jid.clone())));
        message.from = Some(Jid::from(domain.clone()));
        if let Some(subject) = &subject {
            message.subjects.insert(Lang::new(), subject.clone());
        }
        let message = message.with_body(Lang::new(), body.to_owned());
        if super::send_element(&session, &message.into()) {
            sent += 1;
        }
    }
    Outcome::info(format!("Announcement sent to {sent} sessions"))
}
