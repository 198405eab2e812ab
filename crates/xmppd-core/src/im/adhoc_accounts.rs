//! The account effects of the XEP-0133 admin commands: add, delete, change password, end
//! sessions. Failures become notes for the admin, never stanza errors: the command ran.

use super::adhoc::Outcome;
use crate::accounts::{self, AccountError};
use crate::server::Server;
use jid::{BareJid, Jid};
use std::sync::Arc;
use xmppd_storage::Accounts;
use xmppd_stream::StreamError;

fn not_hosted(jid: &BareJid) -> Outcome {
    Outcome::error(format!(
        "{jid} is not an account of a domain this server hosts"
    ))
}

fn min_password_length(server: &Server, jid: &BareJid) -> usize {
    super::register::policy(server, jid.domain().as_str()).1
}

/// add-user: creates the account with the given password.
pub(super) async fn add(server: &Arc<Server>, jid: &BareJid, password: &str) -> Outcome {
    let Some(user) = server.local_user(jid) else {
        return not_hosted(jid);
    };
    if let Err(err) = accounts::check_password(password, min_password_length(server, jid)) {
        return Outcome::error(err.to_string());
    }
    match accounts::create(
        &server.storage,
        user,
        password,
        server.config.auth.scram_iterations,
    )
    .await
    {
        Ok(()) => {
            tracing::info!(%jid, "account created by an admin command");
            Outcome::info(format!("Account {jid} created"))
        }
        Err(AccountError::AlreadyExists) => Outcome::error(format!("Account {jid} exists already")),
        Err(err) => {
            tracing::warn!(%err, "creating an account by an admin command failed");
            Outcome::error("Creating the account failed".into())
        }
    }
}

/// change-user-password: replaces every credential of the account.
pub(super) async fn change_password(
    server: &Arc<Server>,
    jid: &BareJid,
    password: &str,
) -> Outcome {
    let Some(user) = server.local_user(jid) else {
        return not_hosted(jid);
    };
    if let Err(err) = accounts::check_password(password, min_password_length(server, jid)) {
        return Outcome::error(err.to_string());
    }
    match accounts::set_password(
        &server.storage,
        user,
        password,
        server.config.auth.scram_iterations,
    )
    .await
    {
        Ok(()) => Outcome::info(format!("Password of {jid} changed")),
        Err(AccountError::NotFound) => Outcome::error(format!("No account {jid}")),
        Err(err) => {
            tracing::warn!(%err, "changing a password by an admin command failed");
            Outcome::error("Changing the password failed".into())
        }
    }
}

/// delete-user: removes each account and ends its sessions.
pub(super) async fn delete(server: &Arc<Server>, jids: &[BareJid]) -> Outcome {
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    for jid in jids {
        let Some(user) = server.local_user(jid) else {
            failed.push(jid.to_string());
            continue;
        };
        let exists = server.storage.account_exists(user).await.unwrap_or(false);
        if exists && server.storage.delete_account(user).await.is_ok() {
            close_all(server, jid, "Account removed");
            deleted.push(jid.to_string());
        } else {
            failed.push(jid.to_string());
        }
    }
    tracing::info!(
        count = deleted.len(),
        "accounts deleted by an admin command"
    );
    summary("Deleted", &deleted, "not found", &failed)
}

/// end-user-session: a full JID ends that session, a bare JID all of the account's.
pub(super) fn end_sessions(server: &Arc<Server>, jids: &[Jid]) -> Outcome {
    let mut ended = Vec::new();
    let mut offline = Vec::new();
    for jid in jids {
        let sessions = match jid.try_as_full() {
            Ok(full) => server.router.session(full).into_iter().collect(),
            Err(_) => server.router.sessions(&jid.to_bare()),
        };
        if sessions.is_empty() {
            offline.push(jid.to_string());
        }
        for session in sessions {
            session.close(ended_by_admin("Session ended by an administrator"));
            ended.push(session.jid.to_string());
        }
    }
    summary("Ended", &ended, "no session", &offline)
}

fn close_all(server: &Server, jid: &BareJid, text: &str) {
    for session in server.router.sessions(jid) {
        session.close(ended_by_admin(text));
    }
}

fn ended_by_admin(text: &str) -> StreamError {
    StreamError::new(xmpp_parsers::stream_error::DefinedCondition::PolicyViolation).with_text(text)
}

fn summary(done_label: &str, done: &[String], failed_label: &str, failed: &[String]) -> Outcome {
    let mut text = format!("{done_label}: {}", list(done));
    if !failed.is_empty() {
        text.push_str(&format!("; {failed_label}: {}", failed.join(", ")));
        return Outcome::error(text);
    }
    Outcome::info(text)
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}
