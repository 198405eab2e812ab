//! `deploy user add|passwd|del|list`: xmppd's admin subcommands run in the running xmppd
//! container (same config, same database); passwords come from stdin, never arguments.

use super::block_on;
use crate::apply::{ApplyError, engine};
use crate::desired::{XMPPD, container_name};
use crate::model::Model;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Add,
    Passwd,
    Del,
    List,
}

/// Runs the admin subcommand; returns its exit code and output.
pub fn run(
    model: &Model,
    action: UserAction,
    jid: Option<&str>,
    password: Option<&str>,
) -> Result<(i64, String), ApplyError> {
    let sub = match action {
        UserAction::Add => "adduser",
        UserAction::Passwd => "passwd",
        UserAction::Del => "deluser",
        UserAction::List => "users",
    };
    let mut cmd: Vec<String> = [
        crate::images::xmppd::BINARY,
        sub,
        "--config",
        crate::images::xmppd::CONFIG,
    ]
    .map(str::to_owned)
    .to_vec();
    if action != UserAction::List {
        let jid =
            jid.ok_or_else(|| ApplyError::Command(format!("deploy user {sub}: JID missing")))?;
        cmd.push(jid.to_owned());
    }
    let name = container_name(&model.name, XMPPD);
    let stdin = password.map(|p| format!("{}\n", p.trim_end_matches(['\r', '\n'])));
    block_on(async {
        let docker = crate::images::connect().await?;
        let running = docker
            .inspect_container(&name, None)
            .await
            .ok()
            .and_then(|i| i.state?.running)
            .unwrap_or(false);
        if !running {
            return Err(ApplyError::NotRunning { name: name.clone() });
        }
        engine::exec(&docker, &name, &cmd, stdin.as_deref().map(str::as_bytes)).await
    })
}
