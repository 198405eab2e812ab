//! The proxy's SOCKS5 side: accept, handshake (no authentication, CONNECT to the hash), wait in
//! pairs for activation, then relay bytes both ways at the configured rate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout};
use xmppd_modules::xep0065_bytestreams as s5b;

/// Time a connection has to finish its SOCKS5 handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time connected parties have to be activated.
const UNPAIRED_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections in a handshake at once.
const MAX_HANDSHAKES: usize = 256;
/// Distinct hashes waiting for activation.
const MAX_PENDING: usize = 1024;
/// Relay buffer per direction.
const CHUNK: usize = 16 * 1024;

/// Connections that finished the handshake, by hash: the target connects first, then the
/// initiator; activation takes both.
#[derive(Debug, Default)]
pub(super) struct Pending {
    by_hash: Mutex<HashMap<String, Waiting>>,
}

#[derive(Debug)]
struct Waiting {
    streams: Vec<TcpStream>,
    since: Instant,
}

impl Pending {
    /// Could a connection for `hash` wait now?
    fn has_room(&self, hash: &str) -> bool {
        let map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(hash) {
            Some(waiting) => waiting.streams.len() < 2,
            None => map.len() < MAX_PENDING,
        }
    }

    /// Parks a connection under `hash`; false (refused) when two wait already or too many do.
    fn park(&self, hash: &str, stream: TcpStream) -> Result<Instant, TcpStream> {
        let mut map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(hash) && map.len() >= MAX_PENDING {
            return Err(stream);
        }
        let waiting = map.entry(hash.to_owned()).or_insert_with(|| Waiting {
            streams: Vec::new(),
            since: Instant::now(),
        });
        if waiting.streams.len() >= 2 {
            return Err(stream);
        }
        waiting.streams.push(stream);
        Ok(waiting.since)
    }

    /// Starts relaying between the two connections under `hash`; false if they are not both
    /// there.
    pub(super) fn activate(&self, hash: &str, bandwidth: u64) -> bool {
        let mut map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(hash).is_none_or(|w| w.streams.len() != 2) {
            return false;
        }
        let Some(mut waiting) = map.remove(hash) else {
            return false;
        };
        let (Some(initiator), Some(target)) = (waiting.streams.pop(), waiting.streams.pop()) else {
            return false;
        };
        tokio::spawn(relay(initiator, target, bandwidth));
        true
    }

    /// Drops what still waits under `hash` since `since` (never a newer pair of the same hash).
    fn expire(&self, hash: &str, since: Instant) {
        let mut map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(hash).is_some_and(|w| w.since == since) {
            map.remove(hash);
        }
    }
}

/// Accepts SOCKS5 connections for as long as the process runs.
pub(super) async fn accept(listener: TcpListener, pending: Arc<Pending>) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                // Out of file descriptors and such: back off instead of spinning.
                tracing::debug!(%err, "accepting a SOCKS5 connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = handshakes.clone().try_acquire_owned() else {
            // Too many half-open connections: refuse the newest instead of queueing it.
            continue;
        };
        let pending = pending.clone();
        tokio::spawn(async move {
            let hash = timeout(HANDSHAKE_TIMEOUT, handshake(stream)).await;
            drop(permit);
            let Ok(Some((hash, mut stream))) = hash else {
                return;
            };
            // A third connection for a hash, or one too many hashes, gets a failure reply.
            let room = pending.has_room(&hash);
            let reply = s5b::connect_reply(&hash, room);
            if stream.write_all(&reply).await.is_err() || !room {
                return;
            }
            if let Ok(since) = pending.park(&hash, stream) {
                tokio::time::sleep_until(since + UNPAIRED_TIMEOUT).await;
                pending.expire(&hash, since);
            }
        });
    }
}

/// RFC 1928 negotiation up to the CONNECT request; the connection and its hash (the CONNECT is
/// answered by the caller, which knows whether there is room).
async fn handshake(mut stream: TcpStream) -> Option<(String, TcpStream)> {
    let mut buf = Vec::with_capacity(64);
    let used = loop {
        match s5b::parse_greeting(&buf) {
            Ok(Some(used)) => break used,
            Ok(None) => read_more(&mut stream, &mut buf).await?,
            Err(s5b::Socks5Error::NoAcceptableMethod) => {
                let _ = stream.write_all(&s5b::greeting_reply(false)).await;
                return None;
            }
            Err(_) => return None,
        }
    };
    buf.drain(..used);
    stream.write_all(&s5b::greeting_reply(true)).await.ok()?;
    let (hash, used) = loop {
        match s5b::parse_connect(&buf) {
            Ok(Some(found)) => break found,
            Ok(None) => read_more(&mut stream, &mut buf).await?,
            Err(_) => {
                let _ = stream.write_all(&s5b::connect_reply("", false)).await;
                return None;
            }
        }
    };
    if buf.len() > used {
        // Data before activation is a protocol error.
        return None;
    }
    Some((hash, stream))
}

/// Reads more handshake bytes; `None` at end of stream or past any sane handshake size.
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 300];
    let n = stream.read(&mut chunk).await.ok()?;
    if n == 0 || buf.len() + n > 600 {
        return None;
    }
    buf.extend_from_slice(&chunk[..n]);
    Some(())
}

/// Copies bytes both ways until either side closes.
async fn relay(a: TcpStream, b: TcpStream, bandwidth: u64) {
    let (a_read, a_write) = a.into_split();
    let (b_read, b_write) = b.into_split();
    let one = copy(a_read, b_write, bandwidth);
    let other = copy(b_read, a_write, bandwidth);
    let _ = tokio::join!(one, other);
}

/// One direction, at most `bandwidth` bytes a second (0: unlimited): after each chunk, waits
/// until the bytes so far fit the rate since the start.
async fn copy(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    bandwidth: u64,
) -> std::io::Result<()> {
    let start = Instant::now();
    let mut total: u64 = 0;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        to.write_all(&buf[..n]).await?;
        total += n as u64;
        if bandwidth > 0 {
            let due = start + Duration::from_secs_f64(total as f64 / bandwidth as f64);
            tokio::time::sleep_until(due).await;
        }
    }
}
