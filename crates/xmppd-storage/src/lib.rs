//! xmppd-storage: what the server must keep across restarts.
//!
//! Presence and routing live in memory; this crate stores accounts and their SCRAM
//! credentials, rosters (RFC 6121, versioned per XEP-0237), offline stanzas, private XML
//! (XEP-0049), vCards (XEP-0054), last activity (XEP-0012), PEP nodes and items (XEP-0163),
//! persistent MUC rooms (XEP-0045), the user directory (XEP-0055), message archives
//! (XEP-0313), blocklists (XEP-0191), privacy lists (XEP-0016) and push registrations
//! (XEP-0357).
//!
//! One [`Storage`] value (cheap to clone, shareable across tokio tasks) implements one trait per
//! area. It wraps either an embedded SQLite file (the default) or a PostgreSQL pool; the SQL is
//! written once and runs on both, and each backend has its own migration folder.
//!
//! Users are identified by [`User`]: the username must already be nodeprep'd (lower-cased)
//! by the caller, and the domain is stored in its own column. Timestamps are stored as
//! milliseconds since the Unix epoch.
//!
//! ```no_run
//! use xmppd_storage::{Accounts, Offline, Storage, StorageConfig, User};
//!
//! # async fn demo() -> xmppd_storage::Result<()> {
//! let config = StorageConfig::Sqlite { path: "data/xmppd.sqlite".into() };
//! let storage = Storage::open(&config).await?; // creates the file, runs migrations
//! let alice = User::new("alice", "example.org");
//! storage.create_account(alice, &[]).await?;
//! let queued = storage.fetch_offline(alice, 100).await?;
//! if let Some(last) = queued.last() {
//!     // ... deliver, then:
//!     storage.delete_offline_up_to(alice, last.id).await?;
//! }
//! # Ok(())
//! # }
//! ```

/// Runs `$body` with `$pool` bound to the backend's pool: the body is written once and compiled
/// for each driver, so every query is portable SQL (`$n` binds work on both).
macro_rules! with_pool {
    ($storage:expr, $pool:ident => $body:expr) => {
        match &$storage.backend {
            $crate::storage::Backend::Sqlite($pool) => $body,
            $crate::storage::Backend::Postgres($pool) => $body,
        }
    };
}

mod accounts;
mod archive;
mod blocking;
mod config;
mod directory;
mod error;
mod last;
mod offline;
mod pending;
mod pep;
mod postgres;
mod private;
mod push;
mod rooms;
mod roster;
mod sqlite;
mod storage;
mod vcard;

pub use accounts::{Accounts, ScramHash, StoredCredential};
pub use archive::{
    Archive, ArchiveFilter, ArchivePage, ArchivePrefs, Archived, NewArchived, PageFrom,
};
pub use blocking::{Blocking, StoredPrivacyList};
pub use config::StorageConfig;
pub use directory::{Directory, Listing};
pub use error::{Result, StorageError};
pub use last::{LastActivity, LastLogout};
pub use offline::{Offline, OfflineId, OfflineMessage};
pub use pending::PendingIn;
pub use pep::{PepItem, PepNodeConfig, PepStore};
pub use private::PrivateXml;
pub use push::{PushEnabled, PushRegistration, Pushes};
pub use rooms::{Rooms, StoredRoom};
pub use roster::{
    Roster, RosterChange, RosterDelta, RosterItem, RosterVersion, Rosters, Subscription,
};
pub use storage::{Storage, User};
pub use vcard::VCards;
