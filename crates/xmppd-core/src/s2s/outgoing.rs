//! Outgoing links: one task per (local, remote) domain pair. It connects (static route, SRV
//! or A/AAAA), secures the stream (STARTTLS or direct TLS), checks the peer's certificate,
//! authenticates us with SASL EXTERNAL (XEP-0178) or dialback (XEP-0220), then writes what
//! the router queues until the link has been idle too long. Stanzas queued while it connects
//! bounce if it cannot (RFC 6120 §10.4).

use super::stream::{Io, Stream};
use super::{S2s, S2sError, forget_link};
use crate::server::Server;
use minidom::Element;
use rustls_pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use xmpp_parsers::stanza_error::DefinedCondition;
use xmppd_stream::s2s::negotiation::{self, Features};
use xmppd_stream::s2s::{Dialback, DialbackKind, Verdict};
use xmppd_stream::{StreamEvent, ns};

/// A stream secured with TLS (or not, where the config allows), before authentication.
pub(crate) struct Secured {
    pub stream: Stream,
    /// The id the peer gave the current stream (dialback keys are made for it).
    pub id: String,
    pub features: Features,
}

/// How our side was authenticated on a link, as logged.
type Mechanism = &'static str;
const EXTERNAL: Mechanism = "EXTERNAL";
const DIALBACK: Mechanism = "dialback";

pub(crate) async fn run(
    server: Arc<Server>,
    local: String,
    remote: String,
    tx: mpsc::Sender<Element>,
    mut rx: mpsc::Receiver<Element>,
) {
    let Some(s2s) = server.s2s.get().cloned() else {
        return;
    };
    let key = (local.clone(), remote.clone());
    let timeout = Duration::from_secs(server.config.s2s.connect_timeout_secs);
    let connected = tokio::time::timeout(timeout, link(&server, &s2s, &local, &remote)).await;
    let mut stream = match connected {
        Ok(Ok((stream, mechanism))) => {
            tracing::info!(%local, %remote, mechanism, "s2s outgoing stream authenticated");
            stream
        }
        failed => {
            let (condition, err) = match failed {
                Err(_) => (DefinedCondition::RemoteServerTimeout, S2sError::Timeout),
                Ok(Err(err)) => (DefinedCondition::RemoteServerNotFound, err),
                Ok(Ok(_)) => unreachable!("handled above"),
            };
            tracing::info!(%local, %remote, %err, "s2s outgoing link failed");
            forget_link(&s2s, &key, &tx);
            drop(tx);
            rx.close();
            while let Ok(stanza) = rx.try_recv() {
                super::bounce(&server, &stanza, condition.clone()).await;
            }
            return;
        }
    };
    let idle = Duration::from_secs(server.config.s2s.idle_timeout_secs);
    let mut last_used = tokio::time::Instant::now();
    loop {
        tokio::select! {
            item = rx.recv() => {
                let Some(first) = item else { break };
                if write_batch(&mut stream, &mut rx, first).await.is_err() {
                    break;
                }
                last_used = tokio::time::Instant::now();
            }
            event = stream.next() => match event {
                // Nothing but keepalives is expected on our outgoing stream.
                Ok(StreamEvent::Whitespace | StreamEvent::Stanza(_)) => {}
                Ok(StreamEvent::Header(_)) | Ok(StreamEvent::Close) | Err(_) => break,
            },
            () = tokio::time::sleep_until(last_used + idle) => {
                tracing::info!(%local, %remote, "s2s outgoing link closed: idle");
                break;
            }
        }
    }
    // Later stanzas make a new link; what is still queued goes through routing again.
    forget_link(&s2s, &key, &tx);
    drop(tx);
    rx.close();
    stream.close().await;
    while let Ok(stanza) = rx.try_recv() {
        crate::im::route(&server, stanza).await;
    }
}

/// Writes `first` and everything else queued, then flushes once.
async fn write_batch(
    stream: &mut Stream,
    rx: &mut mpsc::Receiver<Element>,
    first: Element,
) -> Result<(), S2sError> {
    let mut next = Some(first);
    while let Some(stanza) = next.take() {
        stream.write(&negotiation::to_server(stanza)).await?;
        next = rx.try_recv().ok();
    }
    stream.flush().await
}

/// Connects, secures and authenticates a link from `local` to `remote`: SASL EXTERNAL when
/// offered; when refused, dialback on a new connection (ejabberd takes no dialback on a
/// stream whose SASL failed, and a fresh stream works with every peer).
async fn link(
    server: &Arc<Server>,
    s2s: &S2s,
    local: &str,
    remote: &str,
) -> Result<(Stream, Mechanism), S2sError> {
    let Secured {
        mut stream,
        id,
        features,
    } = secure(server, s2s, local, remote).await?;
    if !features.external {
        return dialback(s2s, stream, &id, local, remote).await;
    }
    stream.send(&negotiation::external_auth(local)).await?;
    let answer = stream.element().await?;
    if negotiation::is_sasl(&answer, "success") {
        stream.restart();
        stream.send_header(Some(local), Some(remote), None).await?;
        stream.header().await?;
        // The features of the authenticated stream (usually empty).
        stream.element().await?;
        return Ok((stream, EXTERNAL));
    }
    tracing::debug!(%remote, "SASL EXTERNAL refused; trying dialback");
    stream.close().await;
    let Secured { stream, id, .. } = secure(server, s2s, local, remote).await?;
    dialback(s2s, stream, &id, local, remote).await
}

/// XEP-0220 §2.1 as the originating server: our key for this stream, and the peer's answer.
async fn dialback(
    s2s: &S2s,
    mut stream: Stream,
    id: &str,
    local: &str,
    remote: &str,
) -> Result<(Stream, Mechanism), S2sError> {
    let key = s2s.dialback_key(remote, local, id);
    stream
        .send(&Dialback::result_request(local, remote, key).to_element())
        .await?;
    loop {
        let el = stream.element().await?;
        let Ok(answer) = Dialback::parse(&el) else {
            continue;
        };
        if answer.kind != DialbackKind::Result || answer.from != remote || answer.to != local {
            continue;
        }
        return match answer.verdict {
            Some(Verdict::Valid) => Ok((stream, DIALBACK)),
            other => Err(S2sError::Auth(format!(
                "{remote} answered dialback with {other:?}"
            ))),
        };
    }
}

/// As the receiving server of a dialback request, asks `originating`'s authoritative server
/// whether `key` (given on our stream `id`) is its own (XEP-0220 §2.2).
pub(crate) async fn verify_with_authoritative(
    server: &Arc<Server>,
    s2s: &S2s,
    receiving: &str,
    originating: &str,
    id: &str,
    key: &str,
) -> Result<Verdict, S2sError> {
    let Secured { mut stream, .. } = secure(server, s2s, receiving, originating).await?;
    let request = Dialback::verify_request(receiving, originating, id, key.to_owned());
    stream.send(&request.to_element()).await?;
    let verdict = loop {
        let el = stream.element().await?;
        if let Ok(answer) = Dialback::parse(&el)
            && answer.kind == DialbackKind::Verify
            && answer.id.as_deref() == Some(id)
            && answer.from == originating
        {
            break answer.verdict.unwrap_or(Verdict::Error);
        }
    };
    stream.close().await;
    Ok(verdict)
}

/// TCP to the first reachable target, our header, STARTTLS (or direct TLS), and the check of
/// the peer's certificate against the policy.
async fn secure(
    server: &Arc<Server>,
    s2s: &S2s,
    local: &str,
    remote: &str,
) -> Result<Secured, S2sError> {
    let targets = s2s
        .resolver
        .targets(&server.config.s2s.connect_overrides, remote)
        .await;
    let mut connected = None;
    for target in &targets {
        let Ok(addrs) = tokio::net::lookup_host((target.host.as_str(), target.port)).await else {
            continue;
        };
        for addr in addrs {
            if let Ok(tcp) = TcpStream::connect(addr).await {
                let _ = tcp.set_nodelay(true);
                connected = Some((tcp, target.direct_tls));
                break;
            }
        }
        if connected.is_some() {
            break;
        }
    }
    let Some((tcp, direct)) = connected else {
        return Err(if targets.is_empty() {
            S2sError::Resolve(remote.to_owned())
        } else {
            S2sError::Connect(remote.to_owned())
        });
    };
    let limits = limits(server);
    let io = if direct {
        Io::Client(Box::new(tls_connect(s2s, local, remote, tcp, true).await?))
    } else {
        Io::Plain(tcp)
    };
    let mut stream = Stream::new(io, limits);
    let (mut id, mut features) = open(&mut stream, local, remote).await?;
    if !stream.is_tls() {
        if features.starttls {
            stream.send(&negotiation::starttls()).await?;
            let answer = stream.element().await?;
            if !negotiation::is_tls(&answer, "proceed") {
                return Err(S2sError::Tls(format!("{remote} refused STARTTLS")));
            }
            let Io::Plain(tcp) = std::mem::replace(&mut stream.io, Io::Upgrading) else {
                return Err(S2sError::Tls("socket already upgraded".into()));
            };
            stream.io = Io::Client(Box::new(tls_connect(s2s, local, remote, tcp, false).await?));
            stream.restart();
            (id, features) = open(&mut stream, local, remote).await?;
        } else if server.config.tls.s2s_require_encryption {
            return Err(S2sError::Tls(format!("{remote} offers no STARTTLS")));
        }
    }
    let valid = s2s.tls.valid_for(stream.peer_chain().as_deref(), remote);
    if !valid && server.config.tls.s2s_require_valid_certificates {
        return Err(S2sError::Tls(format!(
            "the certificate of {remote} is not valid for it"
        )));
    }
    Ok(Secured {
        stream,
        id,
        features,
    })
}

/// Our header, then the peer's header (its stream id) and features.
async fn open(
    stream: &mut Stream,
    local: &str,
    remote: &str,
) -> Result<(String, Features), S2sError> {
    stream.send_header(Some(local), Some(remote), None).await?;
    let header = stream.header().await?;
    if header.xmlns != ns::JABBER_SERVER {
        return Err(S2sError::Negotiation(format!(
            "{remote} answered with content namespace {}",
            header.xmlns
        )));
    }
    let features = Features::parse(&stream.element().await?)
        .ok_or(S2sError::Unexpected("something else than stream features"))?;
    Ok((header.id.unwrap_or_default(), features))
}

async fn tls_connect(
    s2s: &S2s,
    local: &str,
    remote: &str,
    tcp: TcpStream,
    direct: bool,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, S2sError> {
    let config = s2s
        .tls
        .client(local, direct)
        .map_err(|e| S2sError::Tls(e.to_string()))?;
    let name = ServerName::try_from(remote.to_owned())
        .map_err(|_| S2sError::Tls(format!("{remote} is no server name")))?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| S2sError::Tls(format!("handshake with {remote}: {e}")))
}

pub(crate) fn limits(server: &Server) -> xmppd_stream::Limits {
    xmppd_stream::Limits {
        max_stanza_bytes: server.config.limits.max_stanza_bytes,
        ..xmppd_stream::Limits::default()
    }
}
