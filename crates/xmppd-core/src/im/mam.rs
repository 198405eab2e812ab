//! XEP-0313 Message Archive Management for user archives: archiving at delivery, queries,
//! preferences, retention.
//!
//! Delivery only decides and stamps the XEP-0359 stanza id; the database writes happen in a
//! writer task that stores queued messages in batches, off the routing path. A query first
//! waits until everything queued before it is written, so a client always finds what it
//! has just received.

use crate::server::Server;
use jid::{BareJid, Jid};
use minidom::Element;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, oneshot};
use xmpp_parsers::mam_prefs::{DefaultPrefs, Prefs};
use xmpp_parsers::message::Message;
use xmppd_config::{ArchiveDefault, Module};
use xmppd_modules::{Error, xep0313_mam as rules};
use xmppd_storage::{Archive, ArchivePrefs, NewArchived};

/// Messages waiting for the writer; when full, delivery waits for room (nothing is dropped).
const QUEUE: usize = 4096;
/// Messages written per transaction.
const BATCH: usize = 256;
/// How long the writer gathers messages before one transaction.
const GATHER: Duration = Duration::from_millis(50);
/// Preference sets kept in memory before the cache starts over.
const PREFS_CACHE: usize = 10_000;
/// Archive queries running at once, server-wide.
const QUERIES: usize = 64;
/// JIDs in the always and never lists together.
const MAX_PREF_JIDS: usize = 1000;
/// How often retention runs.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub(super) struct Entry {
    owner: String,
    stanza_id: String,
    with: String,
    stored_at: SystemTime,
    stanza: Vec<u8>,
}

pub(super) enum Job {
    Store(Entry),
    /// Answered once every job queued before it is done.
    Flush(oneshot::Sender<()>),
}

/// The archive writer's queue and the preferences cache, shared by every session.
#[derive(Debug)]
pub struct Archiver {
    pub(super) tx: mpsc::Sender<Job>,
    rx: Mutex<Option<mpsc::Receiver<Job>>>,
    prefs: Mutex<HashMap<BareJid, Arc<Prefs>>>,
    pub(crate) queries: Arc<tokio::sync::Semaphore>,
    pub(super) running: Mutex<HashMap<BareJid, usize>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("archive job")
    }
}

impl Default for Archiver {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        Self {
            tx,
            rx: Mutex::new(Some(rx)),
            prefs: Mutex::new(HashMap::new()),
            queries: Arc::new(tokio::sync::Semaphore::new(QUERIES)),
            running: Mutex::new(HashMap::new()),
        }
    }
}

/// Starts the writer and the retention task (once; later calls do nothing).
pub fn start(server: &Arc<Server>) {
    let Some(rx) = server
        .mam
        .rx
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    else {
        return;
    };
    tokio::spawn(writer(server.storage.clone(), rx));
    let days = server.config.mam.retention_days;
    if days > 0 && server.enabled(Module::Mam) {
        let storage = server.storage.clone();
        tokio::spawn(async move {
            let keep = Duration::from_secs(u64::from(days) * 86_400);
            let mut tick = tokio::time::interval(PRUNE_EVERY);
            loop {
                tick.tick().await;
                match storage.prune_archive(SystemTime::now() - keep).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "archive retention"),
                    Err(err) => tracing::warn!(%err, "archive retention failed"),
                }
            }
        });
    }
}

async fn writer(storage: xmppd_storage::Storage, mut rx: mpsc::Receiver<Job>) {
    while let Some(job) = rx.recv().await {
        // Gather for a moment: one transaction per burst instead of one per message keeps the
        // writer from contending with every offline store for the database lock. A query's
        // flush ends the gathering at once.
        let until = tokio::time::Instant::now() + GATHER;
        let mut entries = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(job);
        while let Some(job) = next.take() {
            match job {
                Job::Store(entry) => entries.push(entry),
                Job::Flush(done) => {
                    flushes.push(done);
                    break;
                }
            }
            if entries.len() < BATCH {
                next = tokio::time::timeout_at(until, rx.recv())
                    .await
                    .ok()
                    .flatten();
            }
        }
        if !entries.is_empty() {
            let batch: Vec<NewArchived<'_>> = entries
                .iter()
                .map(|e| NewArchived {
                    owner: &e.owner,
                    stanza_id: &e.stanza_id,
                    with: &e.with,
                    stored_at: e.stored_at,
                    stanza: &e.stanza,
                })
                .collect();
            if let Err(err) = storage.archive_messages(&batch).await {
                tracing::warn!(%err, count = batch.len(), "archiving messages failed");
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Waits until the writer has stored everything queued so far.
pub(crate) async fn flush(server: &Server) {
    let (done, flushed) = tokio::sync::oneshot::channel();
    if server.mam.tx.send(Job::Flush(done)).await.is_ok() {
        let _ = flushed.await;
    }
}

pub(crate) fn new_id() -> String {
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn prefs_from_config(default: ArchiveDefault) -> Prefs {
    rules::default_prefs(match default {
        ArchiveDefault::Always => DefaultPrefs::Always,
        ArchiveDefault::Roster => DefaultPrefs::Roster,
        ArchiveDefault::Never => DefaultPrefs::Never,
    })
}

fn mode_name(mode: &DefaultPrefs) -> &'static str {
    match mode {
        DefaultPrefs::Always => "always",
        DefaultPrefs::Never => "never",
        DefaultPrefs::Roster => "roster",
    }
}

fn parse_jids(list: &[String]) -> Vec<Jid> {
    list.iter().filter_map(|j| Jid::new(j).ok()).collect()
}

/// The owner's preferences (cached; the configured default when never set).
async fn prefs(server: &Server, owner: &BareJid) -> Arc<Prefs> {
    if let Some(p) = server
        .mam
        .prefs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(owner)
    {
        return p.clone();
    }
    let stored = server.storage.archive_prefs(owner.as_str()).await;
    let prefs = match stored {
        Ok(Some(p)) => Prefs {
            default_: p.default_mode.parse().unwrap_or(DefaultPrefs::Always),
            always: parse_jids(&p.always),
            never: parse_jids(&p.never),
        },
        Ok(None) => prefs_from_config(server.config.mam.default),
        Err(err) => {
            tracing::warn!(%err, "reading archive preferences failed");
            prefs_from_config(server.config.mam.default)
        }
    };
    let prefs = Arc::new(prefs);
    let mut cache = server.mam.prefs.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= PREFS_CACHE {
        cache.clear();
    }
    cache.insert(owner.clone(), prefs.clone());
    prefs
}

async fn wants(server: &Server, owner: &BareJid, contact: &Jid) -> bool {
    let prefs = prefs(server, owner).await;
    let in_roster = if prefs.default_ == DefaultPrefs::Roster {
        match server.local_user(owner) {
            Some(user) => super::roster::contact(server, user, &contact.to_bare())
                .await
                .is_ok_and(|(_, item)| item.is_some()),
            None => false,
        }
    } else {
        false
    };
    rules::should_archive(&prefs, contact, in_roster)
}

pub(crate) async fn enqueue(
    server: &Server,
    owner: &BareJid,
    id: String,
    with: &Jid,
    message: &Message,
) {
    let mut stanza = Vec::new();
    if Element::from(message.clone())
        .write_to(&mut stanza)
        .is_err()
    {
        return;
    }
    let job = Job::Store(Entry {
        owner: owner.to_string(),
        stanza_id: id,
        with: with.to_bare().to_string(),
        stored_at: SystemTime::now(),
        stanza,
    });
    if let Err(mpsc::error::TrySendError::Full(job)) = server.mam.tx.try_send(job) {
        let _ = server.mam.tx.send(job).await;
    }
}

/// Archives a message about to be delivered to (or stored offline for) a local account: in
/// the recipient's archive (its stanza id is added to the message returned for delivery) and,
/// if the sender is local, in the sender's archive.
pub async fn archive(server: &Server, stanza: Element) -> Element {
    if !server.enabled(Module::Mam) {
        return stanza;
    }
    let Ok(mut message) = Message::try_from(stanza.clone()) else {
        return stanza;
    };
    let (Some(from), Some(to)) = (message.from.clone(), message.to.clone()) else {
        return stanza;
    };
    if !rules::is_archivable(&message) {
        return stanza;
    }
    let sent = message.clone();
    let recipient = to.to_bare();
    if wants(server, &recipient, &from).await {
        let id = new_id();
        rules::stamp_stanza_id(&mut message, &recipient, &id);
        enqueue(server, &recipient, id, &from, &message).await;
    }
    let sender = from.to_bare();
    if sender != recipient
        && server.local_user(&sender).is_some()
        && wants(server, &sender, &to).await
    {
        enqueue(server, &sender, new_id(), &to, &sent).await;
    }
    message.into()
}

/// `<prefs/>` get and set for the user's own archive.
pub async fn prefs_iq(
    server: &Server,
    owner: &BareJid,
    is_set: bool,
    payload: Element,
) -> Result<Option<Element>, Option<Error>> {
    if !is_set {
        return Ok(Some((*prefs(server, owner).await).clone().into()));
    }
    let new = Prefs::try_from(payload).map_err(|e| {
        Some(Error::ParsePayload {
            what: "urn:xmpp:mam:2 prefs",
            reason: e.to_string(),
        })
    })?;
    if new.always.len() + new.never.len() > MAX_PREF_JIDS {
        return Err(Some(Error::MamBadField {
            field: "prefs".to_owned(),
            reason: format!("at most {MAX_PREF_JIDS} JIDs"),
        }));
    }
    let stored = ArchivePrefs {
        default_mode: mode_name(&new.default_).to_owned(),
        always: new.always.iter().map(|j| j.to_string()).collect(),
        never: new.never.iter().map(|j| j.to_string()).collect(),
    };
    server
        .storage
        .set_archive_prefs(owner.as_str(), &stored)
        .await
        .map_err(|err| {
            tracing::warn!(%err, "storing archive preferences failed");
            None
        })?;
    server
        .mam
        .prefs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(owner.clone(), Arc::new(new.clone()));
    Ok(Some(new.into()))
}
