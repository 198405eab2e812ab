//! Account administration: `adduser`, `passwd`, `deluser`, `users`. Passwords come from
//! standard input only, so they never show in `ps` or shell history.

use anyhow::{Context, bail};
use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;
use xmppd_config::Config;
use xmppd_core::{accounts, runtime};
use xmppd_storage::{Accounts, User};

fn block_on<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f)
}

/// Splits `user@domain` and checks that the domain is hosted here.
fn account<'a>(config: &Config, jid: &'a str) -> anyhow::Result<(String, &'a str)> {
    let parsed = jid::BareJid::new(jid).with_context(|| format!("{jid:?} is not a valid JID"))?;
    let Some(node) = parsed.node() else {
        bail!("{jid:?} names no account: use user@domain");
    };
    let (_, domain) = jid.rsplit_once('@').unwrap_or_default();
    if !config
        .vhosts
        .iter()
        .any(|v| v.domain.eq_ignore_ascii_case(domain))
    {
        bail!("{domain} is not a domain of this server");
    }
    Ok((node.as_str().to_owned(), domain))
}

fn read_password(min_len: usize) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    accounts::check_password(&password, min_len)?;
    Ok(password)
}

fn min_len(config: &Config, domain: &str) -> usize {
    config
        .vhosts
        .iter()
        .find(|v| v.domain.eq_ignore_ascii_case(domain))
        .map(|v| v.registration.min_password_length)
        .unwrap_or(8)
}

pub fn add(path: &Path, jid: &str) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let (node, domain) = account(&config, jid)?;
    let password = read_password(min_len(&config, domain))?;
    block_on(async {
        std::fs::create_dir_all(&config.data_dir)?;
        let storage = runtime::open_storage(&config).await?;
        accounts::create(
            &storage,
            User::new(&node, domain),
            &password,
            config.auth.scram_iterations,
        )
        .await
        .with_context(|| format!("adding {jid}"))?;
        storage.close().await;
        Ok(())
    })?;
    println!("created {node}@{domain}");
    Ok(ExitCode::SUCCESS)
}

pub fn passwd(path: &Path, jid: &str) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let (node, domain) = account(&config, jid)?;
    let password = read_password(min_len(&config, domain))?;
    block_on(async {
        let storage = runtime::open_storage(&config).await?;
        accounts::set_password(
            &storage,
            User::new(&node, domain),
            &password,
            config.auth.scram_iterations,
        )
        .await
        .with_context(|| format!("changing the password of {jid}"))?;
        storage.close().await;
        Ok(())
    })?;
    println!("password changed for {node}@{domain}");
    Ok(ExitCode::SUCCESS)
}

pub fn delete(path: &Path, jid: &str) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let (node, domain) = account(&config, jid)?;
    block_on(async {
        let storage = runtime::open_storage(&config).await?;
        storage
            .delete_account(User::new(&node, domain))
            .await
            .with_context(|| format!("deleting {jid}"))?;
        storage.close().await;
        Ok(())
    })?;
    println!("deleted {node}@{domain}");
    Ok(ExitCode::SUCCESS)
}

pub fn list(path: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let names = block_on(async {
        let storage = runtime::open_storage(&config).await?;
        let mut all = Vec::new();
        for vhost in &config.vhosts {
            for user in storage.list_accounts(&vhost.domain).await? {
                all.push(format!("{user}@{}", vhost.domain));
            }
        }
        storage.close().await;
        Ok(all)
    })?;
    for name in names {
        println!("{name}");
    }
    Ok(ExitCode::SUCCESS)
}
