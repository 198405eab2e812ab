//! One client connection: drives the sans-IO negotiation (`xmppd-stream`) over TCP and TLS,
//! then carries stanzas between the socket and the router.
//!
//! One task per connection, no extra writer task: it waits on the socket, its outbox and the
//! login deadline at once. Everything queued is written before one flush, so a burst costs one
//! TLS record and one syscall.

mod sm_link;

use crate::csi::Csi;
use crate::im::{self, Session};
use crate::router::Outgoing;
use crate::runtime::{ListenerKind, Runtime};
use crate::tls;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use xmppd_modules::xep0352_csi::{self, ClientState};
use xmppd_storage::{Accounts, User};
use xmppd_stream::c2s::{Action, BindRefusal, C2s, LookupFailed, Stage, Transport};
use xmppd_stream::sasl::scram::ChannelBindingData;
use xmppd_stream::{DefinedCondition, StreamError};

/// Stanzas queued for one session before it counts as too slow to deliver to.
const OUTBOX: usize = 512;
/// Account registrations one address may attempt per minute.
const REGISTRATIONS_PER_MINUTE: u32 = 3;
/// Read buffer per connection: small, since most stanzas are small and idle sessions many.
const READ_CHUNK: usize = 4096;

/// The socket, before or after TLS.
enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only while the TLS handshake owns the socket.
    Upgrading,
    /// The server end of a WebSocket or BOSH session's bridge (`xmppd-http`).
    Bridged(tokio::io::DuplexStream),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Io::Bridged(s) => Pin::new(s).poll_read(cx, buf),
            Io::Upgrading => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Io::Bridged(s) => Pin::new(s).poll_write(cx, buf),
            Io::Upgrading => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Io::Bridged(s) => Pin::new(s).poll_flush(cx),
            Io::Upgrading => Poll::Ready(Ok(())),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Io::Bridged(s) => Pin::new(s).poll_shutdown(cx),
            Io::Upgrading => Poll::Ready(Ok(())),
        }
    }
}

fn channel_binding(runtime: &Runtime, tls: &TlsStream<TcpStream>) -> ChannelBindingData {
    let (_, conn) = tls.get_ref();
    ChannelBindingData {
        tls_exporter: tls::exporter_binding(conn),
        tls_server_end_point: runtime
            .certs
            .lookup(conn.server_name())
            .map(|c| c.end_point_hash.clone()),
    }
}

/// The state of one connection's task.
struct Connection {
    runtime: Arc<Runtime>,
    peer: SocketAddr,
    io: Io,
    c2s: C2s,
    outbox_tx: crate::outbox::Sender,
    outbox_rx: crate::outbox::Receiver,
    session: Option<Session>,
    /// The username of a SASL attempt that has not succeeded yet (for the failure counters).
    attempt: Option<String>,
    closed: bool,
    /// When we last wrote, for whitespace keepalives.
    last_write: tokio::time::Instant,
    /// XEP-0352 client state and what it holds back.
    csi: Csi,
    /// XEP-0198 counters, once the client enabled stream management.
    sm: Option<crate::sm::SmState>,
}

/// Serves one accepted TCP connection until it closes.
pub async fn serve(runtime: Arc<Runtime>, tcp: TcpStream, peer: SocketAddr, kind: ListenerKind) {
    if runtime.server.config.logging.log_client_ips {
        tracing::info!(%peer, "client connected");
    } else {
        tracing::debug!(%peer, "client connected");
    }
    let (io, transport) = match kind {
        ListenerKind::C2sStartTls => (Io::Plain(tcp), Transport::Plain),
        ListenerKind::C2sDirectTls => {
            let acceptor = tokio_rustls::TlsAcceptor::from(runtime.direct_tls.clone());
            // Boxed: the handshake's state (a whole TLS connection) would otherwise size the
            // task's future for the session's life.
            let handshake = Box::pin(tokio::time::timeout(
                login_timeout(&runtime),
                acceptor.accept(tcp),
            ))
            .await;
            let Ok(Ok(tls)) = handshake else {
                tracing::debug!(%peer, "direct TLS handshake failed");
                return;
            };
            let cb = channel_binding(&runtime, &tls);
            (Io::Tls(Box::new(tls)), Transport::DirectTls(cb))
        }
        // Server listeners are served by `crate::s2s`, never here.
        ListenerKind::S2sStartTls | ListenerKind::S2sDirectTls => return,
    };
    drive(runtime, peer, io, transport).await;
}

/// Serves a session whose stream bytes come through a bridge (WebSocket, BOSH). The HTTP
/// side is secure already (TLS at the proxy, or loopback) but has no channel binding.
pub async fn serve_bridged(runtime: Arc<Runtime>, io: tokio::io::DuplexStream, peer: SocketAddr) {
    let limit = runtime.server.config.limits.connections_per_ip;
    // Counted like TCP connections, so HTTP is no way around the per-address limit.
    let Some(slot) = runtime.slots.acquire(peer.ip(), limit) else {
        tracing::debug!("refused: too many connections from this address");
        return;
    };
    let transport = Transport::DirectTls(ChannelBindingData::none());
    drive(runtime, peer, Io::Bridged(io), transport).await;
    drop(slot);
}

/// The limits a bridged client's input is held to: the same as over TCP.
pub fn client_limits(runtime: &Runtime) -> xmppd_stream::Limits {
    runtime.c2s.limits
}

async fn drive(runtime: Arc<Runtime>, peer: SocketAddr, io: Io, transport: Transport) {
    let (outbox_tx, outbox_rx) = crate::outbox::channel(OUTBOX);
    let c2s = C2s::new(runtime.c2s.clone(), transport);
    let mut conn = Connection {
        runtime,
        peer,
        io,
        c2s,
        outbox_tx,
        outbox_rx,
        session: None,
        attempt: None,
        closed: false,
        last_write: tokio::time::Instant::now(),
        csi: Csi::default(),
        sm: None,
    };
    // Boxed so the task keeps only the state of the step it is in, not the largest of all.
    Box::pin(conn.run()).await;
    Box::pin(conn.finish()).await;
}

/// Waits until the socket has data, then feeds it to the state machine. The read buffer
/// lives on the stack only while a read completes, so an idle connection keeps none.
/// `None` when the connection ended.
async fn read_and_feed(io: &mut Io, c2s: &mut C2s) -> Option<Vec<Action>> {
    std::future::poll_fn(|cx| {
        let mut chunk = [0u8; READ_CHUNK];
        let mut buf = ReadBuf::new(&mut chunk);
        match Pin::new(&mut *io).poll_read(cx, &mut buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(_)) => Poll::Ready(None),
            Poll::Ready(Ok(())) if buf.filled().is_empty() => Poll::Ready(None),
            Poll::Ready(Ok(())) => Poll::Ready(Some(c2s.feed(buf.filled()))),
        }
    })
    .await
}

fn login_timeout(runtime: &Runtime) -> Duration {
    Duration::from_secs(runtime.server.config.limits.unauthenticated_timeout_secs)
}

impl Connection {
    async fn run(&mut self) {
        let deadline = tokio::time::Instant::now() + login_timeout(&self.runtime);
        let keepalive =
            Duration::from_secs(self.runtime.server.config.limits.keepalive_secs.max(1));
        while !self.closed {
            let bound = self.session.is_some();
            let next_keepalive = self.last_write + keepalive;
            tokio::select! {
                actions = read_and_feed(&mut self.io, &mut self.c2s) => {
                    let Some(actions) = actions else { return };
                    // Boxed: an idle task then keeps only this loop's small state, not the
                    // largest state a handler can reach (ARCHITECTURE: memory per session).
                    if Box::pin(self.carry_out(actions)).await.is_err() {
                        return;
                    }
                }
                out = self.outbox_rx.recv(), if bound => {
                    let Some(out) = out else { return };
                    if Box::pin(self.write_outgoing(out)).await.is_err() {
                        return;
                    }
                }
                // A XEP-0198 resumption elsewhere took the session: let go of it.
                () = sm_link::kicked(&self.sm) => return,
                _ = tokio::time::sleep_until(next_keepalive), if bound => {
                    if self.io.write_all(b" ").await.is_err() || self.io.flush().await.is_err() {
                        return;
                    }
                    self.last_write = tokio::time::Instant::now();
                }
                _ = tokio::time::sleep_until(deadline), if !bound => {
                    let actions = self.c2s.close(Some(
                        StreamError::new(DefinedCondition::ConnectionTimeout)
                            .with_text("Not logged in in time"),
                    ));
                    // Boxed like the other handlers, or the idle loop's future would be
                    // as large as everything `carry_out` can reach.
                    let _ = Box::pin(self.carry_out(actions)).await;
                    return;
                }
            }
        }
    }

    /// Writes one outgoing item and everything else already queued, then flushes once.
    async fn write_outgoing(&mut self, first: Outgoing) -> io::Result<()> {
        let mut next = Some(first);
        while let Some(out) = next.take() {
            match out {
                Outgoing::Stanza(bytes) => {
                    for bytes in self.csi.outgoing(bytes) {
                        self.io.write_all(&bytes).await?;
                        self.sm_sent(bytes);
                    }
                }
                Outgoing::Close(error) => {
                    let actions = self.c2s.close(Some(error));
                    return self.carry_out(actions).await;
                }
            }
            next = self.outbox_rx.try_recv();
        }
        self.sm_after_batch().await?;
        self.last_write = tokio::time::Instant::now();
        self.io.flush().await
    }

    /// Carries out the state machine's actions in order; answers to lookups produce more.
    async fn carry_out(&mut self, actions: Vec<Action>) -> io::Result<()> {
        let mut queue: std::collections::VecDeque<Action> = actions.into();
        let mut dirty = false;
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Send(bytes) => {
                    self.io.write_all(&bytes).await?;
                    self.sm_internal_reply(&bytes);
                    dirty = true;
                }
                Action::StartTls => {
                    self.io.flush().await?;
                    dirty = false;
                    self.start_tls().await?;
                }
                Action::LookupCredentials(request) => {
                    let found = self
                        .lookup_credentials(&request.username, request.mechanism.hash)
                        .await;
                    queue.extend(self.c2s.credentials(request, found));
                }
                Action::VerifyPlain(request) => {
                    let verdict = self
                        .verify_plain(&request.username, &request.password)
                        .await;
                    queue.extend(self.c2s.plain_verified(request, verdict));
                }
                Action::Authenticated { username } => {
                    self.attempt = None;
                    self.runtime
                        .failures_by_account
                        .clear(&self.account_key(&username));
                    tracing::debug!("client authenticated");
                }
                Action::BindRequested(request) => {
                    let result = self.bind(request.resource.clone());
                    queue.extend(self.c2s.bind_result(request, result));
                }
                Action::Bound(jid) => {
                    tracing::debug!(%jid, "session bound");
                    if dirty {
                        self.io.flush().await?;
                        dirty = false;
                    }
                    if !self.sm.as_ref().is_some_and(|sm| sm.resumed) {
                        self.send_motd();
                    }
                }
                Action::Stanza(stanza) => {
                    if let Some(sm) = &mut self.sm {
                        sm.inbound.handled_one();
                    }
                    if let Some(session) = self.session.clone() {
                        im::handle_from_client(&self.runtime.server, &session, stanza).await;
                    }
                }
                Action::PreAuthIq(iq) => {
                    let reply = self.register(iq).await;
                    if let Ok(bytes) = xmppd_stream::writer::element(&reply) {
                        self.io.write_all(&bytes).await?;
                        dirty = true;
                    }
                }
                Action::Nonza(element) if self.sm_applies(&element) => {
                    queue.extend(self.on_sm(&element).await?);
                    dirty = true;
                }
                Action::Nonza(element) => match self.client_state(&element) {
                    Some(ClientState::Inactive) => self.csi.inactive(),
                    Some(ClientState::Active) => {
                        for bytes in self.csi.active() {
                            self.io.write_all(&bytes).await?;
                            self.sm_sent(bytes);
                            dirty = true;
                        }
                    }
                    // No other stream extension is offered, so none may be used.
                    None => queue.extend(self.c2s.close(Some(StreamError::new(
                        DefinedCondition::UnsupportedStanzaType,
                    )))),
                },
                Action::Close(_) => {
                    self.io.flush().await?;
                    self.closed = true;
                    return Ok(());
                }
            }
        }
        if dirty {
            self.io.flush().await?;
            self.last_write = tokio::time::Instant::now();
        }
        Ok(())
    }

    async fn start_tls(&mut self) -> io::Result<()> {
        let Io::Plain(tcp) = std::mem::replace(&mut self.io, Io::Upgrading) else {
            return Err(io::ErrorKind::InvalidInput.into());
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(self.runtime.starttls.clone());
        let tls = acceptor.accept(tcp).await?;
        let cb = channel_binding(&self.runtime, &tls);
        self.io = Io::Tls(Box::new(tls));
        self.c2s.tls_established(cb);
        Ok(())
    }

    fn host(&self) -> String {
        self.c2s.host().unwrap_or_default().to_owned()
    }

    fn account_key(&self, username: &str) -> String {
        format!("{username}@{}", self.host())
    }

    /// Counts the previous unfinished attempt as a failure, and refuses when over a limit.
    fn begin_attempt(&mut self, username: &str) -> Result<(), LookupFailed> {
        let now = Instant::now();
        if let Some(previous) = self.attempt.replace(username.to_owned()) {
            self.runtime
                .failures_by_account
                .record(self.account_key(&previous), now);
            self.runtime.failures_by_addr.record(self.peer.ip(), now);
        }
        let throttle = &self.runtime.server.config.auth.throttle;
        if self.runtime.failures_by_account.exceeded(
            &self.account_key(username),
            throttle.failures_per_account_per_minute,
            now,
        ) || self.runtime.failures_by_addr.exceeded(
            &self.peer.ip(),
            throttle.failures_per_address_per_minute,
            now,
        ) {
            tracing::info!("login throttled after repeated failures");
            return Err(LookupFailed);
        }
        Ok(())
    }

    async fn lookup_credentials(
        &mut self,
        username: &str,
        hash: xmppd_stream::sasl::credentials::ScramHash,
    ) -> Result<Option<xmppd_stream::sasl::credentials::ScramCredentials>, LookupFailed> {
        self.begin_attempt(username)?;
        let host = self.host();
        let user = User::new(username, &host);
        match self
            .runtime
            .server
            .storage
            .credential(user, crate::accounts::stored_hash(hash))
            .await
        {
            Ok(found) => Ok(found.map(crate::accounts::to_scram)),
            Err(err) => {
                tracing::warn!(%err, "credentials lookup failed");
                Err(LookupFailed)
            }
        }
    }

    async fn verify_plain(&mut self, username: &str, password: &str) -> Result<bool, LookupFailed> {
        self.begin_attempt(username)?;
        let host = self.host();
        let user = User::new(username, &host);
        let stored = self
            .runtime
            .server
            .storage
            .credential(user, xmppd_storage::ScramHash::Sha256)
            .await
            .map_err(|_| LookupFailed)?;
        // An unknown user costs the same PBKDF2 as a wrong password, so timing reveals nothing.
        let credentials = match stored {
            Some(stored) => crate::accounts::to_scram(stored),
            None => xmppd_stream::sasl::credentials::ScramCredentials::fake(
                xmppd_stream::sasl::credentials::ScramHash::Sha256,
                &self.runtime.c2s.unknown_user.secret,
                username,
                self.runtime.c2s.unknown_user.iterations,
            ),
        };
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || credentials.verify_password(&password))
            .await
            .map_err(|_| LookupFailed)
    }

    fn bind(&mut self, resource: Option<String>) -> Result<jid::FullJid, BindRefusal> {
        let username = self
            .c2s
            .username()
            .ok_or(BindRefusal::NotAllowed)?
            .to_owned();
        let resource = resource.unwrap_or_else(random_resource);
        let jid = jid::FullJid::new(&format!("{username}@{}/{resource}", self.host()))
            .map_err(|_| BindRefusal::NotAllowed)?;
        let max = self.runtime.server.config.limits.resources_per_account as usize;
        match self
            .runtime
            .server
            .router
            .bind(jid.clone(), self.outbox_tx.clone(), max)
        {
            Ok(handle) => {
                self.session = Some(Session { handle });
                Ok(jid)
            }
            Err(_) => Err(BindRefusal::ResourceConstraint),
        }
    }

    /// A XEP-0352 client state, when CSI is on and the element is one.
    fn client_state(&self, element: &minidom::Element) -> Option<ClientState> {
        let enabled = self.runtime.server.enabled(xmppd_config::Module::Csi);
        enabled.then(|| xep0352_csi::parse(element)).flatten()
    }

    /// XEP-0077 registration by a stranger, limited per address.
    async fn register(&mut self, iq: minidom::Element) -> minidom::Element {
        let runtime = self.runtime.clone();
        let ip = self.peer.ip();
        let may_create = move || {
            let now = Instant::now();
            let limits = &runtime.registrations_by_addr;
            if limits.exceeded(&ip, REGISTRATIONS_PER_MINUTE, now) {
                return false;
            }
            limits.record(ip, now);
            true
        };
        im::register_stranger(&self.runtime.server, &self.host(), iq, may_create).await
    }

    fn send_motd(&self) {
        let (Some(session), Some(text)) = (&self.session, self.runtime.server.motd()) else {
            return;
        };
        if !self.runtime.server.enabled(xmppd_config::Module::Motd) {
            return;
        }
        let domain = jid::BareJid::from_parts(None, session.jid().domain());
        if let Some(message) = xmppd_modules::motd::motd(&domain, session.jid(), &text) {
            im::send_element(&session.handle, &message.into());
        }
    }

    /// After the socket is gone: unavailable presence, unbind, and count a pending failure.
    async fn finish(mut self) {
        if let Some(username) = self.attempt.take() {
            let now = Instant::now();
            self.runtime
                .failures_by_account
                .record(self.account_key(&username), now);
            self.runtime.failures_by_addr.record(self.peer.ip(), now);
        }
        if let Some(session) = self.session.take() {
            if let Some(sm) = self.sm.take() {
                self.sm_finish(session, sm).await;
            } else {
                im::go_offline(&self.runtime.server, &session).await;
                self.runtime.server.router.unbind(&session.handle);
            }
        }
        if self.c2s.stage() != Stage::Closed {
            let _ = self.io.shutdown().await;
        }
        tracing::debug!("client disconnected");
    }
}

/// A server-chosen resource (RFC 6120 §7.6.1): random, so it reveals nothing.
fn random_resource() -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    let mut out = String::from("xmppd-");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
