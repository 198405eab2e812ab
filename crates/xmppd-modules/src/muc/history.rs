//! XEP-0045 §7.2.15: the discussion history a joining occupant receives, bounded by the
//! room's configured length, and by what the occupant asks for (maxstanzas, maxchars, seconds,
//! since). Kept in memory per room; a room archive (XEP-0313) can hook in where messages are
//! appended ([`History::push`]).

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use xmpp_parsers::muc::muc::History as Request;

/// One message as the room broadcast it (from the sender's occupant JID, without `to`).
#[derive(Debug, Clone)]
pub struct Entry {
    pub stanza: minidom::Element,
    pub at: DateTime<Utc>,
    /// Size of the serialised stanza, the unit of `maxchars`.
    pub chars: usize,
}

/// The last messages of a room.
#[derive(Debug, Clone, Default)]
pub struct History {
    entries: VecDeque<Entry>,
}

impl History {
    /// Appends a message, dropping the oldest beyond `capacity`.
    pub fn push(&mut self, entry: Entry, capacity: u32) {
        self.entries.push_back(entry);
        self.trim(capacity);
    }

    /// Drops the oldest messages beyond `capacity` (after a configuration change too).
    pub fn trim(&mut self, capacity: u32) {
        while self.entries.len() > capacity as usize {
            self.entries.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The messages to send, oldest first: the newest that satisfy every limit of the request.
    /// Without a request the room's whole buffer is sent (its length is the default).
    pub fn select(&self, request: Option<&Request>, now: DateTime<Utc>) -> Vec<&Entry> {
        let max_stanzas = request
            .and_then(|r| r.maxstanzas)
            .map_or(usize::MAX, |n| n as usize);
        let max_chars = request
            .and_then(|r| r.maxchars)
            .map_or(usize::MAX, |n| n as usize);
        let oldest = request.and_then(|r| {
            let by_seconds = r
                .seconds
                .map(|s| now - chrono::Duration::seconds(i64::from(s)));
            let by_since = r.since.as_ref().map(|d| d.0.with_timezone(&Utc));
            by_seconds.max(by_since)
        });
        let mut chosen = Vec::new();
        let mut chars = 0usize;
        for entry in self.entries.iter().rev() {
            if chosen.len() >= max_stanzas || oldest.is_some_and(|t| entry.at < t) {
                break;
            }
            chars = chars.saturating_add(entry.chars);
            if chars > max_chars {
                break;
            }
            chosen.push(entry);
        }
        chosen.reverse();
        chosen
    }
}
