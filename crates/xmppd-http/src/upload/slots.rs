//! Upload slots handed out but not used yet: each is good for one PUT before it expires.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};
use xmppd_modules::xep0363_upload::Slot;

/// How long a slot's PUT URL stays valid.
pub const SLOT_LIFETIME: Duration = Duration::from_secs(300);
/// Unused slots one user may hold.
const PER_USER: usize = 20;
/// Unused slots in all (bounds memory whatever strangers do).
const TOTAL: usize = 10_000;

/// A file's unguessable name: 128 random bits as 32 lower-case hex digits. The only part of
/// a URL that ever reaches the filesystem, and only after [`FileId::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileId(String);

impl FileId {
    /// A fresh random id.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// An id from a URL or file name: exactly 32 lower-case hex digits, else `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A slot waiting for its PUT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The bare JID that asked for it (its quota pays for the file).
    pub owner: String,
    pub slot: Slot,
    expires: Instant,
}

/// Why no slot could be reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManySlots;

/// The unused slots.
#[derive(Debug, Default)]
pub struct Slots {
    by_id: HashMap<FileId, Pending>,
}

impl Slots {
    /// Bytes `owner` has reserved in unexpired slots.
    pub fn reserved(&self, owner: &str, now: Instant) -> u64 {
        self.by_id
            .values()
            .filter(|p| p.owner == owner && p.expires > now)
            .map(|p| p.slot.size)
            .sum()
    }

    /// Reserves a slot under `id`.
    pub fn add(
        &mut self,
        id: FileId,
        owner: &str,
        slot: Slot,
        now: Instant,
    ) -> Result<(), TooManySlots> {
        self.by_id.retain(|_, p| p.expires > now);
        let mine = self.by_id.values().filter(|p| p.owner == owner).count();
        if mine >= PER_USER || self.by_id.len() >= TOTAL {
            return Err(TooManySlots);
        }
        let pending = Pending {
            owner: owner.to_owned(),
            slot,
            expires: now + SLOT_LIFETIME,
        };
        self.by_id.insert(id, pending);
        Ok(())
    }

    /// Takes the slot for a PUT: present, unexpired, and for this file name. A slot is used up
    /// by its first PUT, whatever comes of it.
    pub fn take(&mut self, id: &FileId, filename: &str, now: Instant) -> Option<Pending> {
        let pending = self.by_id.remove(id)?;
        (pending.expires > now && pending.slot.filename == filename).then_some(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(size: u64) -> Slot {
        Slot {
            filename: "f.txt".into(),
            size,
            content_type: "text/plain".into(),
        }
    }

    #[test]
    fn ids_are_hex_and_nothing_else_parses() {
        let id = FileId::random().unwrap();
        assert_eq!(FileId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(FileId::parse("../../etc/passwd"), None);
        assert_eq!(FileId::parse(&"A".repeat(32)), None);
        assert_eq!(FileId::parse(&"a".repeat(31)), None);
    }

    #[test]
    fn a_slot_is_good_for_one_put_with_its_name() {
        let now = Instant::now();
        let mut slots = Slots::default();
        let id = FileId::random().unwrap();
        slots.add(id.clone(), "a@x", slot(5), now).unwrap();
        assert_eq!(slots.reserved("a@x", now), 5);
        assert_eq!(slots.reserved("b@x", now), 0);
        assert!(slots.take(&id, "f.txt", now).is_some());
        assert!(slots.take(&id, "f.txt", now).is_none());
        let other = FileId::random().unwrap();
        slots.add(other.clone(), "a@x", slot(5), now).unwrap();
        assert!(slots.take(&other, "g.txt", now).is_none());
    }

    #[test]
    fn expired_slots_are_refused_and_free_their_bytes() {
        let now = Instant::now();
        let later = now + SLOT_LIFETIME + Duration::from_secs(1);
        let mut slots = Slots::default();
        let id = FileId::random().unwrap();
        slots.add(id.clone(), "a@x", slot(5), now).unwrap();
        assert_eq!(slots.reserved("a@x", later), 0);
        assert!(slots.take(&id, "f.txt", later).is_none());
    }

    #[test]
    fn one_user_holds_a_bounded_number_of_slots() {
        let now = Instant::now();
        let mut slots = Slots::default();
        for _ in 0..PER_USER {
            slots
                .add(FileId::random().unwrap(), "a@x", slot(1), now)
                .unwrap();
        }
        assert_eq!(
            slots.add(FileId::random().unwrap(), "a@x", slot(1), now),
            Err(TooManySlots)
        );
        assert!(
            slots
                .add(FileId::random().unwrap(), "b@x", slot(1), now)
                .is_ok()
        );
    }
}
