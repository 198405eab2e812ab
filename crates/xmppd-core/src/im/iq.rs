//! IQs the server answers itself: to the server domain (disco, ping, version, time, uptime,
//! registration), for the user's own account (roster, vCard, private XML) and on behalf of
//! other accounts (vCard, last activity, disco) (RFC 6120 §8.2.3, RFC 6121 §8.5.1).

use super::{Session, route, send_element};
use crate::server::Server;
use jid::{BareJid, Jid};
use minidom::Element;
use std::sync::Arc;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xmppd_config::Module;
use xmppd_modules::xep0050_adhoc;
use xmppd_modules::{
    Error, stanza_error, xep0012_last, xep0049_private, xep0054_vcard, xep0077_register,
    xep0092_version, xep0199_ping, xep0202_time,
};
use xmppd_storage::{LastActivity, PrivateXml, User, VCards};

/// The error reply for a request, from a rule's error.
pub fn error_reply(iq: &Iq, error: &Error) -> Iq {
    stanza_error::iq_error(iq, stanza_error::from_error(error)).unwrap_or_else(|| iq.clone())
}

/// The error reply for a request, with a condition.
pub fn error_with(iq: &Iq, type_: ErrorType, condition: DefinedCondition) -> Iq {
    stanza_error::iq_error(iq, stanza_error::make(type_, condition, None))
        .unwrap_or_else(|| iq.clone())
}

/// `internal-server-error`, for storage failures (logged where they happen).
pub fn internal_error(iq: &Iq) -> Iq {
    error_with(iq, ErrorType::Wait, DefinedCondition::InternalServerError)
}

fn service_unavailable(iq: &Iq) -> Iq {
    error_with(iq, ErrorType::Cancel, DefinedCondition::ServiceUnavailable)
}

fn payload(iq: &Iq) -> Option<&Element> {
    match iq {
        Iq::Get { payload, .. } | Iq::Set { payload, .. } => Some(payload),
        _ => None,
    }
}

fn is_set_of(iq: &Iq) -> bool {
    matches!(iq, Iq::Set { .. })
}

fn from_bare(iq: &Iq) -> Option<BareJid> {
    match iq {
        Iq::Get { from, .. } | Iq::Set { from, .. } => from.as_ref().map(Jid::to_bare),
        _ => None,
    }
}

/// An IQ the client sent.
pub async fn from_client(
    server: &Arc<Server>,
    session: &Session,
    stanza: Element,
    to: Option<Jid>,
) {
    let Ok(iq) = Iq::try_from(stanza.clone()) else {
        super::deliver::bounce(
            server,
            &stanza,
            ErrorType::Modify,
            DefinedCondition::BadRequest,
        )
        .await;
        return;
    };
    let own = session.bare();
    let for_self = to
        .as_ref()
        .is_none_or(|t| t.try_as_full().is_err() && t.to_bare() == own);
    let is_request = matches!(iq, Iq::Get { .. } | Iq::Set { .. });
    let reply = if for_self && is_request {
        Some(for_own_account(server, session, iq).await)
    } else if to.is_some() {
        route(server, stanza).await;
        None
    } else {
        None
    };
    if let Some(Some(reply)) = reply {
        let mut el: Element = reply.into();
        // Answers about the account come from the bare JID, or from nowhere when it was not
        // addressed (RFC 6120 §8.1.2.1).
        if to.is_none() {
            super::set_address(&mut el, super::Address::From, None);
        }
        send_element(&session.handle, &el);
    }
}

async fn for_own_account(server: &Arc<Server>, session: &Session, iq: Iq) -> Option<Iq> {
    let payload = payload(&iq)?.clone();
    let bare = session.bare();
    let user = server.local_user(&bare)?;
    let is_set = matches!(iq, Iq::Set { .. });
    let answer = if payload.is("query", ns::ROSTER) {
        return super::roster::handle(server, session, iq)
            .await
            .unwrap_or_else(Some);
    } else if payload.is("vCard", ns::VCARD) && server.enabled(Module::Vcard) {
        vcard(server, &bare, &bare, user, is_set, payload).await
    } else if payload.is("query", ns::PRIVATE) && server.enabled(Module::Private) {
        private(server, &bare, user, is_set, payload).await
    } else if super::pep::is_pubsub(&payload) && server.enabled(Module::Pep) {
        return Some(super::pep::handle_iq(server, &bare, &bare, &iq).await);
    } else if payload.is("query", ns::DISCO_ITEMS) && !is_set && server.enabled(Module::Pep) {
        return Some(super::pep::disco_items(server, &bare, &bare, &iq).await);
    } else if payload.is("ping", ns::PING) && server.enabled(Module::Ping) {
        Ok(None)
    } else if is_set
        && server.enabled(Module::Carbons)
        && xmppd_modules::xep0280_carbons::toggle(&payload).is_some()
    {
        let on = xmppd_modules::xep0280_carbons::toggle(&payload) == Some(true);
        session.handle.update_presence(|p| p.carbons = on);
        Ok(None)
    } else if is_set && payload.ns() == ns::PUSH && server.enabled(Module::Push) {
        super::push::handle(server, &bare, user, payload).await
    } else if payload.is("query", ns::DISCO_INFO) && !is_set {
        server
            .disco
            .account_info(payload.attr("node"))
            .map(|info| Some(info.into()))
            .map_err(Some)
    } else if payload.is("query", ns::REGISTER) {
        // XEP-0077 §3.2 sends the removal request without `to`: it is about the own account.
        register_logged_in(server, &iq, is_set, payload).await?
    } else if payload.is("query", ns::MAM) && is_set && server.enabled(Module::Mam) {
        // Answered from a task of its own, after the result messages.
        super::mam_query::query(server, session, iq, payload);
        return None;
    } else if payload.is("prefs", ns::MAM) && server.enabled(Module::Mam) {
        super::mam::prefs_iq(server, &bare, is_set, payload).await
    } else if payload.ns() == ns::BLOCKING && server.enabled(Module::Blocking) {
        super::blocking::blocking_iq(server, session, is_set, payload).await
    } else if payload.is("query", xmppd_modules::xep0016_privacy::NS)
        && server.enabled(Module::Privacy)
    {
        super::blocking::privacy_iq(server, session, is_set, payload).await
    } else {
        Err(None)
    };
    Some(reply_for(&iq, answer))
}

/// The result or error for a request, from a handler's answer: `Err(None)` means nobody here
/// handles that payload.
fn reply_for(iq: &Iq, answer: Result<Option<Element>, Option<Error>>) -> Iq {
    match answer {
        Ok(payload) => xmppd_modules::iq::result(iq, payload).unwrap_or_else(|| iq.clone()),
        Err(Some(error)) => error_reply(iq, &error),
        Err(None) => service_unavailable(iq),
    }
}

async fn vcard(
    server: &Server,
    requester: &BareJid,
    target: &BareJid,
    user: User<'_>,
    is_set: bool,
    payload: Element,
) -> Result<Option<Element>, Option<Error>> {
    match xep0054_vcard::parse(
        requester,
        target,
        is_set,
        payload,
        xep0054_vcard::DEFAULT_MAX_BYTES,
    )
    .map_err(Some)?
    {
        xep0054_vcard::Request::Get(_) => {
            let stored = server.storage.vcard(user).await.map_err(|_| None)?;
            let stored = stored.and_then(|xml| xml.parse::<Element>().ok());
            Ok(Some(xep0054_vcard::answer_get(stored)))
        }
        xep0054_vcard::Request::Set(card) => {
            server
                .storage
                .set_vcard(user, &String::from(&card))
                .await
                .map_err(|_| None)?;
            super::pep::vcard_stored(server, target, user, &card).await;
            super::search::vcard_stored(server, user, &card).await;
            Ok(None)
        }
    }
}

async fn private(
    server: &Server,
    bare: &BareJid,
    user: User<'_>,
    is_set: bool,
    payload: Element,
) -> Result<Option<Element>, Option<Error>> {
    match xep0049_private::parse(bare, bare, is_set, payload).map_err(Some)? {
        xep0049_private::Request::Get(key, asked) => {
            let stored = server
                .storage
                .private_xml(user, &key.namespace)
                .await
                .map_err(|_| None)?
                .and_then(|xml| xml.parse::<Element>().ok());
            Ok(Some(xep0049_private::answer_get(asked, stored)))
        }
        xep0049_private::Request::Set(key, element) => {
            server
                .storage
                .set_private_xml(user, &key.namespace, &String::from(&element))
                .await
                .map_err(|_| None)?;
            if key.namespace == xmppd_modules::xep0402_bookmarks::LEGACY_NS {
                super::pep::legacy_bookmarks_stored(server, bare, user, &element).await;
            }
            Ok(None)
        }
    }
}

/// An IQ addressed to the server domain itself.
pub async fn to_server(server: &Arc<Server>, stanza: Element) {
    let Ok(iq) = Iq::try_from(stanza) else { return };
    if super::pep::iq_response(server, &iq).await {
        return;
    }
    let Some(payload) = payload(&iq).cloned() else {
        return;
    };
    let is_set = matches!(iq, Iq::Set { .. });
    let answer: Result<Option<Element>, Option<Error>> = if payload.is("ping", ns::PING)
        && server.enabled(Module::Ping)
    {
        let reply = xep0199_ping::answer(&iq);
        if let Some(reply) = reply {
            route(server, reply.into()).await;
        }
        return;
    } else if payload.is("query", ns::VERSION) && !is_set && server.enabled(Module::Version) {
        Ok(Some(
            xep0092_version::SoftwareVersion::this_build()
                .answer()
                .into(),
        ))
    } else if payload.is("time", ns::TIME) && !is_set && server.enabled(Module::Time) {
        let offset = chrono::FixedOffset::east_opt(0).expect("zero is a valid offset");
        Ok(Some(
            xep0202_time::answer(&xep0202_time::SystemClock, offset).into(),
        ))
    } else if payload.is("query", xep0012_last::NS) && !is_set && server.enabled(Module::Uptime) {
        Ok(Some(
            xep0012_last::server_uptime(server.started, chrono::Utc::now()).into(),
        ))
    } else if payload.is("command", xep0050_adhoc::NS)
        && is_set
        && server.enabled(Module::AdminAdhoc)
    {
        super::adhoc::execute(server, &iq, payload).await;
        return;
    } else if payload.is("query", xmppd_modules::xep0055_search::NS)
        && server.enabled(Module::Search)
    {
        super::search::handle(server, &iq, is_set, payload).await;
        return;
    } else if payload.is("query", ns::DISCO_ITEMS)
        && !is_set
        && payload.attr("node") == Some(xep0050_adhoc::NS)
        && server.enabled(Module::AdminAdhoc)
    {
        super::adhoc::items(server, &iq).map(Some).ok_or(None)
    } else if payload.is("query", ns::DISCO_INFO) && !is_set {
        server
            .disco
            .server_info(payload.attr("node"))
            .map(|i| Some(i.into()))
            .map_err(Some)
    } else if payload.is("query", ns::DISCO_ITEMS) && !is_set {
        server
            .disco
            .server_items(payload.attr("node"))
            .map(|i| Some(i.into()))
            .map_err(Some)
    } else if payload.is("query", ns::REGISTER) {
        match register_logged_in(server, &iq, is_set, payload).await {
            Some(answer) => answer,
            None => return,
        }
    } else {
        Err(None)
    };
    route(server, reply_for(&iq, answer).into()).await;
}

/// XEP-0077 for a logged-in user: password change and account removal. `None` when the
/// request was answered here already (a removal answers before the sessions end).
async fn register_logged_in(
    server: &Arc<Server>,
    iq: &Iq,
    is_set: bool,
    payload: Element,
) -> Option<Result<Option<Element>, Option<Error>>> {
    let Some(bare) = from_bare(iq) else {
        return Some(Err(None));
    };
    let Some(user) = server.local_user(&bare) else {
        return Some(Err(None));
    };
    match register_request(server, iq, is_set, payload, &bare, user).await {
        Registration::Answer(answer) => Some(answer),
        Registration::Reply(reply) => {
            route(server, (*reply).into()).await;
            None
        }
        Registration::Removed => {
            // XEP-0077 §3.2: the result first, then every session of the account ends.
            route(server, reply_for(iq, Ok(None)).into()).await;
            for session in server.router.sessions(&bare) {
                session.close(
                    xmppd_stream::StreamError::new(
                        xmpp_parsers::stream_error::DefinedCondition::NotAuthorized,
                    )
                    .with_text("Account removed"),
                );
            }
            None
        }
    }
}

/// What a logged-in XEP-0077 request came to.
enum Registration {
    /// Reply with this payload or error.
    Answer(Result<Option<Element>, Option<Error>>),
    /// Reply with this stanza as it is.
    Reply(Box<Iq>),
    /// The account is deleted: reply, then end its sessions.
    Removed,
}

async fn register_request(
    server: &Arc<Server>,
    iq: &Iq,
    is_set: bool,
    payload: Element,
    bare: &BareJid,
    user: xmppd_storage::User<'_>,
) -> Registration {
    let (policy, min_len) = super::register::policy(server, bare.domain().as_str());
    let requester = xep0077_register::Requester::Account(bare.clone());
    if !is_set {
        return Registration::Answer(
            xep0077_register::fields(&requester, &policy)
                .map(|q| Some(q.into()))
                .map_err(Some),
        );
    }
    let request = match xep0077_register::parse_set(&requester, &policy, payload) {
        Ok(request) => request,
        Err(e) => return Registration::Answer(Err(Some(e))),
    };
    match request {
        xep0077_register::Request::ChangePassword { password } => {
            if let Err(err) = crate::accounts::check_password(&password, min_len) {
                return Registration::Reply(Box::new(super::register::weak_password(iq, &err)));
            }
            let stored = crate::accounts::set_password(
                &server.storage,
                user,
                &password,
                server.config.auth.scram_iterations,
            )
            .await;
            Registration::Answer(stored.map(|_| None).map_err(|_| None))
        }
        xep0077_register::Request::Remove => {
            use xmppd_storage::Accounts;
            match server.storage.delete_account(user).await {
                Ok(_) => Registration::Removed,
                Err(_) => Registration::Answer(Err(None)),
            }
        }
        xep0077_register::Request::Register { .. } => {
            Registration::Answer(Err(Some(Error::RegisterOtherAccount)))
        }
    }
}

/// An IQ request to another account's bare JID, answered by the server on its behalf.
pub async fn on_behalf_of_account(server: &Arc<Server>, stanza: Element, target: BareJid) {
    let Ok(iq) = Iq::try_from(stanza) else { return };
    let Some(payload) = payload(&iq).cloned() else {
        return;
    };
    let Some(user) = server.local_user(&target) else {
        return;
    };
    let requester = from_bare(&iq);
    let disco_items = payload.is("query", ns::DISCO_ITEMS) && !is_set_of(&iq);
    if (super::pep::is_pubsub(&payload) || disco_items) && server.enabled(Module::Pep) {
        if let Some(requester) = &requester {
            let reply = if disco_items {
                super::pep::disco_items(server, requester, &target, &iq).await
            } else {
                super::pep::handle_iq(server, requester, &target, &iq).await
            };
            let mut reply: Element = reply.into();
            super::set_address(&mut reply, super::Address::From, Some(&target.to_string()));
            route(server, reply).await;
        }
        return;
    }
    let is_set = matches!(iq, Iq::Set { .. });
    let answer = if payload.is("vCard", ns::VCARD) && server.enabled(Module::Vcard) {
        match &requester {
            Some(requester) => vcard(server, requester, &target, user, is_set, payload).await,
            None => Err(None),
        }
    } else if payload.is("query", xep0012_last::NS) && !is_set && server.enabled(Module::Uptime) {
        last_activity(server, requester.as_ref(), &target, user).await
    } else if payload.is("query", ns::DISCO_INFO) && !is_set {
        server
            .disco
            .account_info(payload.attr("node"))
            .map(|i| Some(i.into()))
            .map_err(Some)
    } else {
        Err(None)
    };
    let mut reply: Element = reply_for(&iq, answer).into();
    super::set_address(&mut reply, super::Address::From, Some(&target.to_string()));
    route(server, reply).await;
}

async fn last_activity(
    server: &Server,
    requester: Option<&BareJid>,
    target: &BareJid,
    user: User<'_>,
) -> Result<Option<Element>, Option<Error>> {
    let requester = requester.ok_or(None)?;
    let contact = super::roster::contact(server, user, requester)
        .await
        .ok()
        .map(|(c, _)| c);
    let online = server
        .router
        .sessions(target)
        .iter()
        .any(|s| s.presence().last.is_some());
    let last = server.storage.last_activity(user).await.map_err(|_| None)?;
    let last = last.map(|l| xep0012_last::LastLogout {
        at: chrono::DateTime::<chrono::Utc>::from(l.at),
        status: l.status,
    });
    xep0012_last::user_last(
        requester,
        target,
        contact,
        online,
        last.as_ref(),
        chrono::Utc::now(),
    )
    .map(|a| Some(a.into()))
    .map_err(Some)
}
