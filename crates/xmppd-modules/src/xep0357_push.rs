//! XEP-0357: Push Notifications. The enable/disable requests, the notification published to an
//! app server, and the per-registration rate limit (sans-IO: the caller passes the time).

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::pubsub::pubsub::{Item, Publish, PublishOptions};
use xmpp_parsers::pubsub::{NodeName, PubSub};
use xmpp_parsers::push::Notification;

use crate::Error;

/// FORM_TYPE of the summary form in a notification (§7).
pub const SUMMARY: &str = "urn:xmpp:push:summary";

/// A validated enable or disable request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Notify `jid` on `node`, sending the serialised publish-options `form` along.
    Enable {
        jid: Jid,
        node: String,
        form: Option<String>,
    },
    /// Stop notifying `jid` on `node`, or on every node when `None`.
    Disable { jid: Jid, node: Option<String> },
}

/// Parses an `<enable/>` or `<disable/>` (§5, §6). The node is required for enable; the
/// publish-options form is kept as sent (re-serialised), up to `max_form_bytes`. The app
/// server's JID may be a full JID (xmpp-parsers' types only take bare ones): an IQ to an
/// account's bare JID would be answered by its server instead of reaching a client.
pub fn parse(payload: Element, max_form_bytes: usize) -> Result<Request, Error> {
    let enable = payload.is("enable", ns::PUSH);
    if !enable && !payload.is("disable", ns::PUSH) {
        return Err(Error::unexpected_element("urn:xmpp:push:0", &payload));
    }
    let what = if enable {
        "push enable"
    } else {
        "push disable"
    };
    let malformed = |reason: String| Error::ParsePayload { what, reason };
    let jid = payload
        .attr("jid")
        .ok_or_else(|| malformed("no jid".into()))
        .and_then(|j| Jid::new(j).map_err(|e| malformed(e.to_string())))?;
    let node = payload
        .attr("node")
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if !enable {
        return Ok(Request::Disable { jid, node });
    }
    let node = node.ok_or(Error::PushMissingNode)?;
    let form = match payload.get_child("x", ns::DATA_FORMS) {
        Some(x) => {
            // Parsed to refuse garbage, stored as sent.
            DataForm::try_from(x.clone()).map_err(|e| malformed(e.to_string()))?;
            let mut bytes = Vec::new();
            x.write_to(&mut bytes)
                .map_err(|e| malformed(e.to_string()))?;
            if bytes.len() > max_form_bytes {
                return Err(Error::PushFormTooLarge {
                    len: bytes.len(),
                    max: max_form_bytes,
                });
            }
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        None => None,
    };
    Ok(Request::Enable { jid, node, form })
}

/// What the app server learns about the waiting messages: no body, for privacy (§7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Messages since the previous notification to this registration, this one included.
    pub message_count: u32,
    /// Who sent the latest one.
    pub last_message_sender: Option<Jid>,
}

/// The publish IQ from `user` to the app server `to` on `node` (§7), with the stored
/// publish-options `options` (ignored when it no longer parses as a data form).
pub fn notification(
    id: String,
    user: &BareJid,
    to: Jid,
    node: &str,
    summary: &Summary,
    options: Option<&str>,
) -> Iq {
    let mut fields = vec![Field::text_single(
        "message-count",
        &summary.message_count.to_string(),
    )];
    if let Some(sender) = &summary.last_message_sender {
        fields.push(
            Field::new("last-message-sender", FieldType::JidSingle).with_value(&sender.to_string()),
        );
    }
    let form = DataForm::new(DataFormType::Form, SUMMARY, fields);
    let item = Item::new(
        None,
        None,
        Some(Notification {
            form: Some(form),
            payloads: Vec::new(),
        }),
    );
    let publish_options = options
        .and_then(|text| text.parse::<Element>().ok())
        .and_then(|el| DataForm::try_from(el).ok())
        .map(|form| PublishOptions { form: Some(form) });
    let pubsub = PubSub::Publish {
        publish: Publish {
            node: NodeName(node.to_owned()),
            items: vec![item],
        },
        publish_options,
    };
    Iq::from_set(id, pubsub)
        .with_from(Jid::from(user.clone()))
        .with_to(to)
}

/// Per-registration rate limit: at most one notification per `interval`; messages in between
/// are counted and reported with the next notification that goes out.
#[derive(Debug)]
pub struct Throttle<K> {
    interval: Duration,
    entries: HashMap<K, Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    last_sent: Instant,
    held_back: u32,
}

/// Above this many tracked registrations, idle ones are swept on the next message.
const SWEEP_ABOVE: usize = 4096;

impl<K: Eq + Hash> Throttle<K> {
    /// A limit of one notification per `interval` per key.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            entries: HashMap::new(),
        }
    }

    /// A message for `key` arrived at `now`: the message count to notify with, or `None` when
    /// the registration was notified too recently (the message is counted for later).
    pub fn on_message(&mut self, key: K, now: Instant) -> Option<u32> {
        if self.entries.len() > SWEEP_ABOVE {
            let interval = self.interval;
            // Counts of idle registrations are lost; they only make one summary less exact.
            self.entries
                .retain(|_, e| now.duration_since(e.last_sent) < interval);
        }
        match self.entries.get_mut(&key) {
            Some(entry) if now.duration_since(entry.last_sent) < self.interval => {
                entry.held_back = entry.held_back.saturating_add(1);
                None
            }
            Some(entry) => {
                let count = entry.held_back.saturating_add(1);
                *entry = Entry {
                    last_sent: now,
                    held_back: 0,
                };
                Some(count)
            }
            None => {
                let entry = Entry {
                    last_sent: now,
                    held_back: 0,
                };
                self.entries.insert(key, entry);
                Some(1)
            }
        }
    }

    /// Forgets `key` (its registration was disabled).
    pub fn forget(&mut self, key: &K) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
#[path = "xep0357_push_tests.rs"]
mod tests;
