//! XEP-0077 in-band registration by someone not logged in (the stream hands these over only
//! over TLS and only for hosts open to registration).

use crate::server::Server;
use jid::BareJid;
use minidom::Element;
use std::sync::Arc;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xmppd_modules::xep0077_register::{self, Policy, Request, Requester};
use xmppd_modules::{Error, welcome};
use xmppd_storage::User;

/// The XEP-0077 policy of `host` and its shortest allowed password.
pub(super) fn policy(server: &Server, host: &str) -> (Policy, usize) {
    let vhost = server.vhost(host);
    let policy = Policy {
        open: vhost.is_some_and(|v| v.registration.in_band),
        instructions: "Choose a username and a password.".to_owned(),
    };
    let min_len = vhost
        .map(|v| v.registration.min_password_length)
        .unwrap_or(8);
    (policy, min_len)
}

/// `not-acceptable`, saying why the password was refused.
pub(super) fn weak_password(iq: &Iq, err: &crate::accounts::AccountError) -> Iq {
    let mut reply = super::iq::error_with(iq, ErrorType::Modify, DefinedCondition::NotAcceptable);
    if let Iq::Error { error, .. } = &mut reply {
        error.texts.insert("en".to_owned(), err.to_string());
    }
    reply
}

/// Answers a registration iq from a stranger on `host`.
/// `may_create` is asked once a valid request is about to create an account (the costly part):
/// it applies the per-address limit, so invalid requests get their real error.
pub async fn register_stranger(
    server: &Arc<Server>,
    host: &str,
    stanza: Element,
    may_create: impl FnOnce() -> bool,
) -> Element {
    let Ok(iq) = Iq::try_from(stanza.clone()) else {
        return bad_request(&stanza);
    };
    let (policy, min_len) = policy(server, host);
    let reply = match &iq {
        Iq::Get { .. } => match xep0077_register::fields(&Requester::Anonymous, &policy) {
            Ok(query) => xmppd_modules::iq::result(&iq, Some(query.into())),
            Err(err) => Some(super::iq::error_reply(&iq, &err)),
        },
        Iq::Set { payload, .. } => Some(
            create(
                server,
                host,
                &iq,
                payload.clone(),
                &policy,
                min_len,
                may_create,
            )
            .await,
        ),
        _ => None,
    };
    reply
        .map(Into::into)
        .unwrap_or_else(|| bad_request(&stanza))
}

async fn create(
    server: &Arc<Server>,
    host: &str,
    iq: &Iq,
    payload: Element,
    policy: &Policy,
    min_len: usize,
    may_create: impl FnOnce() -> bool,
) -> Iq {
    let (username, password) =
        match xep0077_register::parse_set(&Requester::Anonymous, policy, payload) {
            Ok(Request::Register { username, password }) => (username, password),
            Ok(_) => return super::iq::error_reply(iq, &Error::RegisterRemoveUnauthenticated),
            Err(err) => return super::iq::error_reply(iq, &err),
        };
    if let Err(err) = crate::accounts::check_password(&password, min_len) {
        return weak_password(iq, &err);
    }
    if !may_create() {
        return super::iq::error_with(iq, ErrorType::Wait, DefinedCondition::ResourceConstraint);
    }
    let user = User::new(&username, host);
    match crate::accounts::create(
        &server.storage,
        user,
        &password,
        server.config.auth.scram_iterations,
    )
    .await
    {
        Ok(()) => {
            tracing::info!("account registered in band");
            let account = BareJid::new(&format!("{username}@{host}"))
                .ok()
                .filter(|_| server.enabled(xmppd_config::Module::Welcome));
            let message = server
                .config
                .welcome
                .as_deref()
                .zip(account)
                .and_then(|(text, account)| welcome::welcome(&account, text));
            if let Some(message) = message {
                let mut el: Element = message.into();
                super::set_address(&mut el, super::Address::From, Some(host));
                super::route(server, el).await;
            }
            xmppd_modules::iq::result(iq, None).unwrap_or_else(|| iq.clone())
        }
        Err(crate::accounts::AccountError::AlreadyExists) => {
            super::iq::error_with(iq, ErrorType::Cancel, DefinedCondition::Conflict)
        }
        Err(err) => {
            tracing::warn!(%err, "in-band registration failed");
            super::iq::internal_error(iq)
        }
    }
}

/// `bad-request` for an iq that does not parse, echoing its id so the client can match it.
fn bad_request(stanza: &Element) -> Element {
    let error =
        xmppd_modules::stanza_error::make(ErrorType::Modify, DefinedCondition::BadRequest, None);
    Iq::from_error(stanza.attr("id").unwrap_or_default(), error).into()
}
