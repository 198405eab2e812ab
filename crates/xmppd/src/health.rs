//! `xmppd health`: the container health check. The xmppd image has no shell and no HTTP
//! client, so the binary probes itself: `GET /health` on its HTTP listener (answers `ok`), or,
//! without one, a TCP connect to its first c2s listener.

use anyhow::{Context as _, bail};
use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use xmppd_config::Config;

const TIMEOUT: Duration = Duration::from_secs(3);
/// The answer is a status line, a few headers and `ok`: more means something else answers.
const MAX_RESPONSE: u64 = 4096;

pub fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let l = &config.listeners;
    if let Some(addr) = l.http.first() {
        let mut stream = connect(*addr)?;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .context("sending the health request")?;
        let mut answer = String::new();
        stream
            .take(MAX_RESPONSE)
            .read_to_string(&mut answer)
            .context("reading the health answer")?;
        if !(answer.starts_with("HTTP/1.1 200") && answer.trim_end().ends_with("ok")) {
            bail!("unexpected health answer: {answer:?}");
        }
    } else if let Some(addr) = l.c2s_starttls.first().or(l.c2s_direct_tls.first()) {
        connect(*addr)?;
    } else {
        bail!("no HTTP or c2s listener to probe");
    }
    println!("ok");
    Ok(ExitCode::SUCCESS)
}

/// Connects to a listener; one bound to every address is probed on loopback.
fn connect(addr: SocketAddr) -> anyhow::Result<TcpStream> {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    let target = SocketAddr::new(ip, addr.port());
    let stream = TcpStream::connect_timeout(&target, TIMEOUT)
        .with_context(|| format!("connecting to {target}"))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    Ok(stream)
}
