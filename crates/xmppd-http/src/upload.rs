//! XEP-0363 HTTP File Upload: the upload domain's component (disco, slot requests) and the
//! PUT/GET endpoints that go with the slots it hands out.

mod http;
mod slots;
mod store;

use axum::Router;
use jid::Jid;
use minidom::Element;
use slots::{FileId, Slots};
use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use store::Store;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xmppd_core::components::{Component, Handled};
use xmppd_core::runtime::Runtime;
use xmppd_core::server::Server;
use xmppd_modules::stanza_error::{iq_error, make};
use xmppd_modules::xep0363_upload::{self, encode_segment};

/// How often expired uploads are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// The upload service: limits, the files, and the slots handed out.
#[derive(Debug)]
pub struct Upload {
    max_file_bytes: u64,
    quota: u64,
    /// Base of the PUT/GET URLs, without a trailing slash.
    base_url: String,
    store: Store,
    slots: Mutex<Slots>,
}

/// The routes of the upload service, if one is configured (registering its component once).
pub fn routes(runtime: &Arc<Runtime>) -> Router {
    let server = &runtime.server;
    let (Some(config), Some(http)) = (&server.config.upload, &server.config.http) else {
        return Router::new();
    };
    let dir = config
        .dir
        .clone()
        .unwrap_or_else(|| server.config.data_dir.join("uploads"));
    let mut failed = None;
    let component = server.components.get_or_register(&config.domain, || {
        let store = match Store::open(&dir) {
            Ok(store) => store,
            Err(err) => {
                failed = Some(err);
                return Arc::new(Unavailable);
            }
        };
        let base = http.upload_url.as_deref().unwrap_or(&http.public_url);
        let upload = Arc::new(Upload {
            max_file_bytes: config.max_file_bytes,
            quota: config.quota_bytes_per_user,
            base_url: base.trim_end_matches('/').to_owned(),
            store,
            slots: Mutex::default(),
        });
        if config.expire_after_days > 0 {
            let max_age = u64::from(config.expire_after_days) * 86_400;
            tokio::spawn(expire(upload.clone(), max_age));
        }
        upload
    });
    if let Some(err) = failed {
        tracing::error!(%err, dir = %dir.display(), "uploads folder unusable; upload is off");
    }
    match component.as_any().downcast::<Upload>() {
        Ok(upload) => http::routes(upload),
        Err(_) => Router::new(),
    }
}

/// Deletes expired files now and then, for as long as the process runs.
async fn expire(upload: Arc<Upload>, max_age_secs: u64) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tick.tick().await;
        let upload = upload.clone();
        let swept =
            tokio::task::spawn_blocking(move || upload.store.sweep(unix_now(), max_age_secs)).await;
        match swept {
            Ok(Ok(n)) if n > 0 => tracing::info!(files = n, "expired uploads deleted"),
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::warn!(%err, "sweeping expired uploads failed"),
            Err(err) => tracing::warn!(%err, "the upload sweep task failed"),
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Upload {
    /// The answer to one IQ request from a local account.
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
            let info = xep0363_upload::disco_info("HTTP file upload", self.max_file_bytes);
            return result(Some(info.into()));
        }
        if is_get && payload.is("query", ns::DISCO_ITEMS) {
            return result(Some(Element::builder("query", ns::DISCO_ITEMS).build()));
        }
        if !(is_get && payload.is("request", xep0363_upload::NS)) {
            return error(ErrorType::Cancel, DefinedCondition::ServiceUnavailable);
        }
        // Only accounts of this server may store files here.
        let owner = from.as_ref().map(Jid::to_bare);
        let Some(owner) = owner.filter(|o| server.local_user(o).is_some()) else {
            return error(ErrorType::Cancel, DefinedCondition::NotAllowed);
        };
        let owner = owner.to_string();
        let now = Instant::now();
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let used = self
            .store
            .used(&owner)
            .saturating_add(slots.reserved(&owner, now));
        let slot =
            match xep0363_upload::check(payload.clone(), self.max_file_bytes, self.quota, used) {
                Ok(slot) => slot,
                Err(refusal) => {
                    return iq_error(iq, refusal.stanza_error()).unwrap_or_else(|| iq.clone());
                }
            };
        let Ok(id) = FileId::random() else {
            return error(ErrorType::Wait, DefinedCondition::InternalServerError);
        };
        let url = format!(
            "{}/upload/{id}/{}",
            self.base_url,
            encode_segment(&slot.filename)
        );
        if slots.add(id, &owner, slot, now).is_err() {
            return error(ErrorType::Wait, DefinedCondition::ResourceConstraint);
        }
        let answer = xmpp_parsers::http_upload::SlotResult {
            put: xmpp_parsers::http_upload::Put {
                url: url.clone(),
                headers: Vec::new(),
            },
            get: xmpp_parsers::http_upload::Get { url },
        };
        result(Some(answer.into()))
    }
}

impl Component for Upload {
    fn handle<'a>(&'a self, server: &'a Arc<Server>, stanza: Element) -> Handled<'a> {
        Box::pin(async move {
            let reply = if stanza.is("iq", ns::DEFAULT_NS) {
                match Iq::try_from(stanza.clone()) {
                    Ok(iq @ (Iq::Get { .. } | Iq::Set { .. })) => {
                        Some(self.answer(server, &iq).into())
                    }
                    Ok(_) => None,
                    Err(_) => bounce(&stanza, DefinedCondition::BadRequest),
                }
            } else if stanza.is("message", ns::DEFAULT_NS) {
                bounce(&stanza, DefinedCondition::ServiceUnavailable)
            } else {
                None
            };
            if let Some(reply) = reply {
                xmppd_core::im::route(server, reply).await;
            }
        })
    }

    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

fn bounce(stanza: &Element, condition: DefinedCondition) -> Option<Element> {
    let type_ = if condition == DefinedCondition::BadRequest {
        ErrorType::Modify
    } else {
        ErrorType::Cancel
    };
    xmppd_modules::stanza_error::bounce(stanza, make(type_, condition, None))
}

/// Stands in for an upload service whose folder could not be opened: every request gets
/// `service-unavailable` rather than silence.
#[derive(Debug)]
struct Unavailable;

impl Component for Unavailable {
    fn handle<'a>(&'a self, server: &'a Arc<Server>, stanza: Element) -> Handled<'a> {
        Box::pin(async move {
            if let Some(reply) = bounce(&stanza, DefinedCondition::ServiceUnavailable) {
                xmppd_core::im::route(server, reply).await;
            }
        })
    }

    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}
