//! `xmppd check`: everything that can be known about a config before starting the server.

use std::path::Path;
use std::process::ExitCode;
use xmppd_config::Config;
use xmppd_core::certs;

/// Certificates with fewer days left than this are reported as a warning.
const EXPIRY_WARNING_DAYS: i64 = 14;

/// One finding of a check.
#[derive(Debug, PartialEq, Eq)]
pub enum Finding {
    Error(String),
    Warning(String),
}

pub fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let findings = findings(&config, now());
    let mut failed = false;
    for finding in &findings {
        match finding {
            Finding::Error(msg) => {
                failed = true;
                eprintln!("error: {msg}");
            }
            Finding::Warning(msg) => eprintln!("warning: {msg}"),
        }
    }
    if failed {
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "{}: config valid, certificates cover {} domain(s), all ports free",
        path.display(),
        config.all_domains().len()
    );
    Ok(ExitCode::SUCCESS)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Certificate coverage and expiry, and whether every listener's port can be bound.
pub fn findings(config: &Config, now: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    let components: Vec<&str> = config.all_domains()[config.vhosts.len()..].to_vec();
    for (i, vhost) in config.vhosts.iter().enumerate() {
        let info = match certs::load_chain(&vhost.certificate)
            .map_err(|e| e.to_string())
            .and_then(|chain| certs::inspect(&chain[0]))
        {
            Ok(info) => info,
            Err(msg) => {
                out.push(Finding::Error(format!("vhost[{i}].certificate: {msg}")));
                continue;
            }
        };
        if let Err(err) = certs::load_key(&vhost.key) {
            out.push(Finding::Error(format!("vhost[{i}].key: {err}")));
        }
        // A vhost's certificate must cover the vhost and every component below it.
        let suffix = format!(".{}", vhost.domain);
        let wanted = std::iter::once(vhost.domain.as_str())
            .chain(components.iter().copied().filter(|c| c.ends_with(&suffix)));
        for domain in wanted {
            if !info.covers(domain) {
                out.push(Finding::Error(format!(
                    "vhost[{i}].certificate: does not cover {domain} (it names {})",
                    info.dns_names.join(", ")
                )));
            }
        }
        let days_left = (info.not_after - now) / 86_400;
        if info.not_after <= now {
            out.push(Finding::Error(format!("vhost[{i}].certificate: expired")));
        } else if info.not_before > now {
            out.push(Finding::Error(format!(
                "vhost[{i}].certificate: not valid yet"
            )));
        } else if days_left < EXPIRY_WARNING_DAYS {
            out.push(Finding::Warning(format!(
                "vhost[{i}].certificate: expires in {days_left} day(s)"
            )));
        }
    }
    // Peers' certificates are checked against this file too: a broken one would stop startup.
    if let Some(path) = &config.s2s.ca_file
        && let Err(err) = certs::load_chain(path)
    {
        out.push(Finding::Error(format!("s2s.ca_file: {err}")));
    }
    let listeners = &config.listeners;
    let all = [
        ("listeners.c2s_starttls", &listeners.c2s_starttls),
        ("listeners.c2s_direct_tls", &listeners.c2s_direct_tls),
        ("listeners.s2s", &listeners.s2s),
        ("listeners.s2s_direct_tls", &listeners.s2s_direct_tls),
        ("listeners.http", &listeners.http),
    ];
    let proxy = config.proxy65.iter().map(|p| p.listen).collect::<Vec<_>>();
    for (name, addrs) in all.into_iter().chain([("proxy65.listen", &proxy)]) {
        for addr in addrs {
            if let Err(err) = std::net::TcpListener::bind(addr) {
                out.push(Finding::Error(format!(
                    "{name}: cannot listen on {addr}: {err}"
                )));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
