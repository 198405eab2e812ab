//! Incoming server streams: STARTTLS (or direct TLS), then the peer's domain authenticated by
//! SASL EXTERNAL when its certificate is valid for it (XEP-0178), or by dialback (XEP-0220)
//! when the config allows peers without one; dialback verification requests are answered
//! here too. Stanzas are accepted only from authenticated domains to ours, then routed like
//! local ones.

use super::stream::{Io, Stream};
use super::{S2s, S2sError};
use crate::server::Server;
use minidom::Element;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use subtle_free::eq;
use tokio::net::TcpStream;
use xmppd_stream::s2s::negotiation::{self, Features};
use xmppd_stream::s2s::{Dialback, DialbackKind, Verdict, dialback};
use xmppd_stream::{DefinedCondition, StreamError, ns};

/// Domains one stream may authenticate (dialback can add several to one stream).
const MAX_DOMAINS_PER_STREAM: usize = 16;

struct Incoming {
    server: Arc<Server>,
    s2s: Arc<S2s>,
    stream: Stream,
    /// Our id of the current stream.
    id: String,
    /// The peer's claimed domain (header `from`).
    from: Option<String>,
    /// Domains authenticated on this stream.
    authenticated: Vec<String>,
    sasl_done: bool,
}

/// Serves one accepted s2s connection until it closes.
pub async fn serve(server: Arc<Server>, tcp: TcpStream, peer: SocketAddr, direct: bool) {
    let Some(s2s) = server.s2s.get().cloned() else {
        return;
    };
    let Some(_slot) = s2s.take_incoming(server.config.s2s.max_incoming) else {
        tracing::debug!("s2s connection refused: too many incoming");
        return;
    };
    tracing::debug!(%peer, "s2s connection");
    let login = Duration::from_secs(server.config.limits.unauthenticated_timeout_secs);
    let io = if direct {
        let acceptor = tokio_rustls::TlsAcceptor::from(s2s.tls.direct_tls.clone());
        match tokio::time::timeout(login, acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => Io::Server(Box::new(tls)),
            _ => {
                tracing::debug!("s2s direct TLS handshake failed");
                return;
            }
        }
    } else {
        Io::Plain(tcp)
    };
    let stream = Stream::new(io, super::outgoing::limits(&server));
    let mut conn = Incoming {
        server,
        s2s,
        stream,
        id: String::new(),
        from: None,
        authenticated: Vec::new(),
        sasl_done: false,
    };
    let result = Box::pin(conn.run(login)).await;
    match result {
        Err(S2sError::Closed) | Ok(()) => conn.stream.close().await,
        Err(err) => {
            tracing::debug!(%err, "s2s incoming stream ended");
            let error = match err {
                S2sError::Framing(e) => e.to_stream_error(),
                S2sError::Timeout => StreamError::new(DefinedCondition::ConnectionTimeout),
                _ => StreamError::new(DefinedCondition::UndefinedCondition),
            };
            conn.stream.fail(error).await;
        }
    }
}

/// What ends a stream with a stream error of ours.
struct Refusal(StreamError);

impl Incoming {
    async fn run(&mut self, login: Duration) -> Result<(), S2sError> {
        let deadline = tokio::time::Instant::now() + login;
        let idle = Duration::from_secs(self.server.config.s2s.idle_timeout_secs);
        loop {
            let header = tokio::time::timeout_at(deadline, self.stream.header())
                .await
                .map_err(|_| S2sError::Timeout)??;
            if let Err(Refusal(error)) = self.open(header).await? {
                self.stream.fail(error).await;
                return Ok(());
            }
            // Elements until the stream restarts (after TLS or SASL) or ends.
            loop {
                let wait = if self.authenticated.is_empty() {
                    tokio::time::timeout_at(deadline, self.stream.element()).await
                } else {
                    tokio::time::timeout(idle, self.stream.element()).await
                };
                let el = wait.map_err(|_| S2sError::Timeout)??;
                match self.on_element(el).await? {
                    Ok(Step::Continue) => {}
                    Ok(Step::Restart) => break,
                    Err(Refusal(error)) => {
                        self.stream.fail(error).await;
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Answers a stream header with ours and the features of this stage.
    async fn open(
        &mut self,
        header: xmppd_stream::StreamHeader,
    ) -> Result<Result<(), Refusal>, S2sError> {
        self.id = xmppd_stream::writer::new_stream_id()
            .map_err(|e| S2sError::Serialise(e.to_string()))?;
        let to = header.to.clone().map(|t| t.to_ascii_lowercase());
        let ours = to.as_deref().is_some_and(|t| self.is_ours(t));
        // A stream to a domain we do not serve is answered as our first host, then refused.
        let ours_name = if ours {
            to.clone()
        } else {
            self.server.config.vhosts.first().map(|v| v.domain.clone())
        };
        self.stream
            .send_header(ours_name.as_deref(), header.from.as_deref(), Some(&self.id))
            .await?;
        if header.xmlns != ns::JABBER_SERVER {
            return Ok(Err(Refusal(StreamError::new(
                DefinedCondition::InvalidNamespace,
            ))));
        }
        if !ours {
            return Ok(Err(Refusal(StreamError::new(
                DefinedCondition::HostUnknown,
            ))));
        }
        self.from = header.from.map(|f| f.to_ascii_lowercase());
        let tls = self.stream.is_tls();
        let features = if !tls {
            Features {
                starttls: true,
                external: false,
                dialback: !self.server.config.tls.s2s_require_encryption,
            }
        } else if self.sasl_done {
            Features::default()
        } else {
            Features {
                starttls: false,
                external: self.from.as_deref().is_some_and(|f| self.cert_valid_for(f)),
                dialback: true,
            }
        };
        self.stream.send(&features.to_element()).await?;
        Ok(Ok(()))
    }

    async fn on_element(&mut self, el: Element) -> Result<Result<Step, Refusal>, S2sError> {
        if negotiation::is_tls(&el, "starttls") && !self.stream.is_tls() {
            self.stream.send(&negotiation::proceed()).await?;
            let Io::Plain(tcp) = std::mem::replace(&mut self.stream.io, Io::Upgrading) else {
                return Err(S2sError::Tls("socket already upgraded".into()));
            };
            let acceptor = tokio_rustls::TlsAcceptor::from(self.s2s.tls.starttls.clone());
            let tls = acceptor
                .accept(tcp)
                .await
                .map_err(|e| S2sError::Tls(e.to_string()))?;
            self.stream.io = Io::Server(Box::new(tls));
            self.stream.restart();
            return Ok(Ok(Step::Restart));
        }
        if negotiation::is_sasl(&el, "auth") {
            return self.on_auth(&el).await;
        }
        if el.ns() == dialback::NS {
            return self.on_dialback(&el).await;
        }
        if negotiation::is_stanza(&el) {
            return Ok(self.on_stanza(el).await.map(|()| Step::Continue));
        }
        Ok(Err(Refusal(StreamError::new(
            DefinedCondition::UnsupportedStanzaType,
        ))))
    }

    async fn on_auth(&mut self, el: &Element) -> Result<Result<Step, Refusal>, S2sError> {
        let claimed = negotiation::parse_external_auth(el)
            .ok()
            .map(|authzid| authzid.or_else(|| self.from.clone()));
        let domain = match claimed {
            Some(Some(domain))
                if self.stream.is_tls()
                    && !self.sasl_done
                    && self.from.as_deref() == Some(domain.as_str())
                    && self.cert_valid_for(&domain) =>
            {
                domain
            }
            _ => {
                self.stream.send(&negotiation::failure()).await?;
                return Ok(Ok(Step::Continue));
            }
        };
        self.stream.send(&negotiation::success()).await?;
        tracing::info!(remote = %domain, mechanism = "EXTERNAL", "s2s incoming stream authenticated");
        self.sasl_done = true;
        self.authenticated.push(domain);
        self.stream.restart();
        Ok(Ok(Step::Restart))
    }

    async fn on_dialback(&mut self, el: &Element) -> Result<Result<Step, Refusal>, S2sError> {
        let Ok(request) = Dialback::parse(el) else {
            return Ok(Err(Refusal(StreamError::new(DefinedCondition::BadFormat))));
        };
        if request.key.is_none() {
            // Answers come on our own outgoing streams, never here.
            return Ok(Err(Refusal(StreamError::new(
                DefinedCondition::UnsupportedStanzaType,
            ))));
        }
        if self.server.config.tls.s2s_require_encryption && !self.stream.is_tls() {
            return Ok(Err(Refusal(StreamError::new(
                DefinedCondition::PolicyViolation,
            ))));
        }
        let to = request.to.to_ascii_lowercase();
        if !self.is_ours(&to) {
            return Ok(Err(Refusal(StreamError::new(
                DefinedCondition::HostUnknown,
            ))));
        }
        let verdict = match request.kind {
            DialbackKind::Verify => self.check_key(&request, &to),
            DialbackKind::Result => self.decide_result(&request, &to).await,
        };
        self.stream
            .send(&request.answer(verdict).to_element())
            .await?;
        if request.kind == DialbackKind::Result && verdict == Verdict::Valid {
            let from = request.from.to_ascii_lowercase();
            tracing::info!(remote = %from, mechanism = "dialback", "s2s incoming stream authenticated");
            if !self.authenticated.contains(&from) {
                if self.authenticated.len() >= MAX_DOMAINS_PER_STREAM {
                    return Ok(Err(Refusal(StreamError::new(
                        DefinedCondition::PolicyViolation,
                    ))));
                }
                self.authenticated.push(from);
            }
        }
        Ok(Ok(Step::Continue))
    }

    /// As the authoritative server: is this key ours, for this stream id?
    fn check_key(&self, request: &Dialback, to: &str) -> Verdict {
        let (Some(id), Some(key)) = (&request.id, &request.key) else {
            return Verdict::Invalid;
        };
        let expected = self
            .s2s
            .dialback_key(&request.from.to_ascii_lowercase(), to, id);
        if eq(expected.as_bytes(), key.as_bytes()) {
            Verdict::Valid
        } else {
            Verdict::Invalid
        }
    }

    /// As the receiving server: accept `from` on this stream? A certificate valid for it is
    /// enough (XEP-0344); without one, only when the config allows, and only after its
    /// authoritative server confirms the key.
    async fn decide_result(&self, request: &Dialback, to: &str) -> Verdict {
        let from = request.from.to_ascii_lowercase();
        if self.cert_valid_for(&from) {
            return Verdict::Valid;
        }
        if self.server.config.tls.s2s_require_valid_certificates {
            tracing::info!(remote = %from, "s2s dialback refused: no valid certificate");
            return Verdict::Invalid;
        }
        let key = request.key.clone().unwrap_or_default();
        let timeout = Duration::from_secs(self.server.config.s2s.connect_timeout_secs);
        let asked = super::outgoing::verify_with_authoritative(
            &self.server,
            &self.s2s,
            to,
            &from,
            &self.id,
            &key,
        );
        match tokio::time::timeout(timeout, asked).await {
            Ok(Ok(verdict)) => verdict,
            Ok(Err(err)) => {
                tracing::info!(remote = %from, %err, "s2s dialback verification failed");
                Verdict::Error
            }
            Err(_) => Verdict::Error,
        }
    }

    async fn on_stanza(&mut self, el: Element) -> Result<(), Refusal> {
        let domain = |attr: &str| {
            el.attr(attr)
                .and_then(|a| jid::Jid::new(a).ok())
                .map(|j| j.domain().as_str().to_ascii_lowercase())
        };
        let from_ok = domain("from").is_some_and(|d| self.authenticated.contains(&d));
        if !from_ok {
            let condition = if self.authenticated.is_empty() {
                DefinedCondition::NotAuthorized
            } else {
                DefinedCondition::InvalidFrom
            };
            return Err(Refusal(StreamError::new(condition)));
        }
        if !domain("to").is_some_and(|d| self.is_ours(&d)) {
            return Err(Refusal(StreamError::new(DefinedCondition::HostUnknown)));
        }
        crate::im::route(&self.server, negotiation::from_server(el)).await;
        Ok(())
    }

    fn is_ours(&self, domain: &str) -> bool {
        self.server
            .config
            .all_domains()
            .iter()
            .any(|d| d.eq_ignore_ascii_case(domain))
    }

    fn cert_valid_for(&self, domain: &str) -> bool {
        self.stream.is_tls()
            && self
                .s2s
                .tls
                .valid_for(self.stream.peer_chain().as_deref(), domain)
    }
}

enum Step {
    Continue,
    Restart,
}

/// Constant-time comparison of dialback keys.
mod subtle_free {
    pub(super) fn eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}
