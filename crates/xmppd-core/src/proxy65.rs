//! XEP-0065 SOCKS5 bytestream proxy: the proxy domain's component (disco, streamhost answer,
//! activation) and its SOCKS5 listener ([`relay`]).

mod relay;

use crate::components::{Component, Handled};
use crate::server::Server;
use minidom::Element;
use relay::Pending;
use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xmppd_modules::stanza_error::{iq_error, make};
use xmppd_modules::xep0065_bytestreams::{self as s5b, Query, StreamHost};

/// The proxy: where clients connect, and the connections waiting for activation.
#[derive(Debug)]
pub struct Proxy {
    streamhost: StreamHost,
    pending: Arc<Pending>,
    bandwidth: u64,
}

/// Binds the proxy's listener and registers its component, if `[proxy65]` is configured.
/// Returns the bound address.
pub async fn start(server: &Arc<Server>) -> Result<Option<SocketAddr>, crate::CoreError> {
    let Some(config) = &server.config.proxy65 else {
        return Ok(None);
    };
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| crate::CoreError::Bind {
                addr: config.listen,
                source,
            })?;
    let local = listener
        .local_addr()
        .map_err(|source| crate::CoreError::Bind {
            addr: config.listen,
            source,
        })?;
    tracing::info!(%local, "listening for SOCKS5 bytestreams");
    let proxy = Arc::new(Proxy {
        streamhost: StreamHost {
            jid: config.domain.clone(),
            host: config
                .public_host
                .clone()
                .unwrap_or_else(|| local.ip().to_string()),
            port: config.public_port.unwrap_or(local.port()),
        },
        pending: Arc::default(),
        bandwidth: config.bandwidth_bytes_per_sec,
    });
    tokio::spawn(relay::accept(listener, proxy.pending.clone()));
    server
        .components
        .get_or_register(&config.domain, || proxy.clone());
    Ok(Some(local))
}

impl Proxy {
    fn answer(&self, server: &Server, iq: &Iq) -> Iq {
        let (payload, from) = match iq {
            Iq::Get { payload, from, .. } | Iq::Set { payload, from, .. } => (payload, from),
            _ => return iq.clone(),
        };
        let is_get = matches!(iq, Iq::Get { .. });
        let error = |type_, condition| {
            iq_error(iq, make(type_, condition, None)).unwrap_or_else(|| iq.clone())
        };
        let result =
            |p: Option<Element>| xmppd_modules::iq::result(iq, p).unwrap_or_else(|| iq.clone());
        if is_get && payload.is("query", ns::DISCO_INFO) && payload.attr("node").is_none() {
            return result(Some(s5b::disco_info("SOCKS5 bytestreams proxy").into()));
        }
        if is_get && payload.is("query", ns::DISCO_ITEMS) {
            return result(Some(Element::builder("query", ns::DISCO_ITEMS).build()));
        }
        if !payload.is("query", s5b::NS) {
            return error(ErrorType::Cancel, DefinedCondition::ServiceUnavailable);
        }
        // Only this server's accounts may relay through it.
        let Some(from) = from
            .as_ref()
            .filter(|f| server.local_user(&f.to_bare()).is_some())
        else {
            return error(ErrorType::Cancel, DefinedCondition::Forbidden);
        };
        let Ok(query) = Query::try_from(payload.clone()) else {
            return error(ErrorType::Modify, DefinedCondition::BadRequest);
        };
        if is_get {
            let answer = Query {
                sid: None,
                streamhosts: vec![self.streamhost.clone()],
                activate: None,
            };
            return result(Some(answer.into()));
        }
        let (Some(sid), Some(target)) = (query.sid, query.activate) else {
            return error(ErrorType::Modify, DefinedCondition::BadRequest);
        };
        // §6.3.3: the initiator (the sender of this request) activates; the hash binds both JIDs.
        let hash = s5b::dst_addr(&sid, &from.to_string(), target.trim());
        if self.pending.activate(&hash, self.bandwidth) {
            result(None)
        } else {
            error(ErrorType::Cancel, DefinedCondition::ItemNotFound)
        }
    }
}

impl Component for Proxy {
    fn handle<'a>(&'a self, server: &'a Arc<Server>, stanza: Element) -> Handled<'a> {
        Box::pin(async move {
            if !stanza.is("iq", ns::DEFAULT_NS) {
                return;
            }
            let reply: Option<Element> = match Iq::try_from(stanza) {
                Ok(iq @ (Iq::Get { .. } | Iq::Set { .. })) => Some(self.answer(server, &iq).into()),
                _ => None,
            };
            if let Some(reply) = reply {
                crate::im::route(server, reply).await;
            }
        })
    }

    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}
