//! XEP-0313 archive queries: one task per query, bounded per account and server-wide.

use super::{Session, serialise};
use crate::server::Server;
use chrono::{DateTime, Utc};
use jid::BareJid;
use minidom::Element;
use std::sync::Arc;
use std::time::SystemTime;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::mam::Query;
use xmpp_parsers::message::Message;
use xmppd_modules::{Error, xep0313_mam as rules};
use xmppd_storage::{Archive, ArchiveFilter, ArchivePage, PageFrom};

/// Archive queries one account may have running at once.
const QUERIES_PER_ACCOUNT: usize = 2;

/// One account's query in flight (of its own archive or a room's), counted until dropped.
pub(crate) struct Running {
    server: Arc<Server>,
    owner: BareJid,
}

impl Running {
    pub(crate) fn start(server: &Arc<Server>, owner: BareJid) -> Option<Self> {
        let mut running = server.mam.running.lock().unwrap_or_else(|e| e.into_inner());
        let count = running.entry(owner.clone()).or_default();
        if *count >= QUERIES_PER_ACCOUNT {
            return None;
        }
        *count += 1;
        Some(Self {
            server: server.clone(),
            owner,
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut running = self
            .server
            .mam
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = running.get_mut(&self.owner) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.owner);
            }
        }
    }
}

fn reply(iq: &Iq, answer: Result<Option<Element>, Option<Error>>) -> Element {
    let el: Element = match answer {
        Ok(payload) => xmppd_modules::iq::result(iq, payload).unwrap_or_else(|| iq.clone()),
        Err(Some(error)) => super::iq::error_reply(iq, &error),
        Err(None) => super::iq::internal_error(iq),
    }
    .into();
    addressed(iq, el)
}

/// Answers to a request without `to` come from nowhere (RFC 6120 §8.1.2.1).
fn addressed(iq: &Iq, mut el: Element) -> Element {
    if matches!(iq, Iq::Set { to: None, .. } | Iq::Get { to: None, .. }) {
        super::set_address(&mut el, super::Address::From, None);
    }
    el
}

/// A query of the user's own archive. Runs in a task of its own: the results are queued with
/// a waiting send, which the session's own task must never do.
pub fn query(server: &Arc<Server>, session: &Session, iq: Iq, payload: Element) {
    // A bounded number of queries run at once, per account and server-wide; past it a client
    // is told to wait, so a flood of queries (or a client that stops reading its results)
    // cannot pile up tasks or database reads.
    let running = Running::start(server, session.bare());
    let permit = server.mam.queries.clone().try_acquire_owned();
    let (Some(running), Ok(permit)) = (running, permit) else {
        let busy = super::iq::error_with(
            &iq,
            xmpp_parsers::stanza_error::ErrorType::Wait,
            xmpp_parsers::stanza_error::DefinedCondition::ResourceConstraint,
        );
        super::send_element(&session.handle, &addressed(&iq, busy.into()));
        return;
    };
    let server = server.clone();
    let session = session.clone();
    tokio::spawn(async move {
        let _running = (running, permit);
        let answer = run_query(&server, &session, payload).await;
        if let Some(bytes) = serialise(&reply(&iq, answer)) {
            session.handle.send_wait(bytes).await;
        }
    });
}

/// Parses a query and reads its page of `owner`'s archive (after the writer has flushed what
/// it holds). Shared by user archives and room archives.
pub(crate) async fn read(
    server: &Server,
    owner: &str,
    payload: Element,
) -> Result<(rules::ArchiveQuery, ArchivePage), Option<Error>> {
    let query = Query::try_from(payload).map_err(|e| Error::ParsePayload {
        what: "urn:xmpp:mam:2 query",
        reason: e.to_string(),
    })?;
    let query = rules::parse_query(query, server.config.mam.max_page_size.max(1))?;
    super::mam::flush(server).await;
    let filter = ArchiveFilter {
        with: query.with.as_ref().map(|w| w.to_string()),
        start: query.start.map(SystemTime::from),
        end: query.end.map(SystemTime::from),
        page: match query.page.clone() {
            rules::Page::Oldest => PageFrom::Oldest,
            rules::Page::Newest => PageFrom::Newest,
            rules::Page::After(id) => PageFrom::After(id),
            rules::Page::Before(id) => PageFrom::Before(id),
        },
        max: query.max,
    };
    match server.storage.archive_page(owner, &filter).await {
        Ok(page) => Ok((query, page)),
        Err(xmppd_storage::StorageError::NotFound { .. }) => {
            let id = match query.page {
                rules::Page::After(id) | rules::Page::Before(id) => id,
                _ => String::new(),
            };
            Err(Some(Error::MamUnknownId(id)))
        }
        Err(err) => {
            tracing::warn!(%err, "reading the archive failed");
            Err(None)
        }
    }
}

async fn run_query(
    server: &Server,
    session: &Session,
    payload: Element,
) -> Result<Option<Element>, Option<Error>> {
    let (results, fin) = results(server, &session.bare(), session.jid(), payload).await?;
    for out in results {
        let Some(bytes) = serialise(&out) else {
            continue;
        };
        if !session.handle.send_wait(bytes).await {
            break;
        }
    }
    Ok(Some(fin))
}

/// Runs a query on `owner`'s archive (an account's or a room's): the result messages for
/// `to`, in the order to send them, and the `<fin/>` that ends the answer.
pub(crate) async fn results(
    server: &Server,
    owner: &BareJid,
    to: &jid::FullJid,
    payload: Element,
) -> Result<(Vec<Element>, Element), Option<Error>> {
    let (query, page) = read(server, owner.as_str(), payload).await?;
    let first = page.items.first().map(|i| i.stanza_id.clone());
    let last = page.items.last().map(|i| i.stanza_id.clone());
    let mut items = page.items;
    if query.flip {
        items.reverse();
    }
    let results = items
        .into_iter()
        .filter_map(|item| {
            let message = std::str::from_utf8(&item.stanza)
                .ok()
                .and_then(|t| t.parse::<Element>().ok())
                .and_then(|e| Message::try_from(e).ok())?;
            Some(
                rules::result_message(
                    owner,
                    to,
                    query.queryid.as_deref(),
                    item.stanza_id,
                    DateTime::<Utc>::from(item.stored_at),
                    message,
                )
                .into(),
            )
        })
        .collect();
    Ok((
        results,
        rules::fin(page.complete, first, last, page.count).into(),
    ))
}
