-- xmppd schema, SQLite flavour (keep in step with migrations/postgres).
-- Usernames are stored nodeprep'd/lower-cased by the caller; the domain is its own column.
-- Every per-user table references accounts with ON DELETE CASCADE: deleting an account
-- deletes everything of it. Times are milliseconds since the Unix epoch.

CREATE TABLE accounts (
    domain          TEXT    NOT NULL,
    username        TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    -- XEP-0237: bumped on every roster change.
    roster_version  INTEGER NOT NULL DEFAULT 0,
    -- Number of rows in offline_messages; updating it serialises concurrent stores.
    offline_count   INTEGER NOT NULL DEFAULT 0 CHECK (offline_count >= 0),
    PRIMARY KEY (domain, username)
) WITHOUT ROWID;

-- SCRAM verifiers only (RFC 5802): there is deliberately no column for a password.
CREATE TABLE credentials (
    domain      TEXT    NOT NULL,
    username    TEXT    NOT NULL,
    hash        TEXT    NOT NULL CHECK (hash IN ('SHA-1', 'SHA-256', 'SHA-512')),
    salt        BLOB    NOT NULL,
    iterations  INTEGER NOT NULL CHECK (iterations > 0),
    stored_key  BLOB    NOT NULL,
    server_key  BLOB    NOT NULL,
    PRIMARY KEY (domain, username, hash),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

-- RFC 6121 roster items.
CREATE TABLE roster_items (
    domain        TEXT    NOT NULL,
    username      TEXT    NOT NULL,
    contact       TEXT    NOT NULL,
    name          TEXT,
    subscription  TEXT    NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
    ask           BOOLEAN NOT NULL,
    approved      BOOLEAN NOT NULL,
    version       INTEGER NOT NULL,
    PRIMARY KEY (domain, username, contact),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX roster_items_by_version ON roster_items (domain, username, version);

CREATE TABLE roster_groups (
    domain      TEXT NOT NULL,
    username    TEXT NOT NULL,
    contact     TEXT NOT NULL,
    group_name  TEXT NOT NULL,
    PRIMARY KEY (domain, username, contact, group_name),
    FOREIGN KEY (domain, username, contact)
        REFERENCES roster_items (domain, username, contact) ON DELETE CASCADE
) WITHOUT ROWID;

-- Tombstones so XEP-0237 "changes since" can report removals.
CREATE TABLE roster_removed (
    domain    TEXT    NOT NULL,
    username  TEXT    NOT NULL,
    contact   TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    PRIMARY KEY (domain, username, contact),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

-- RFC 6121 3.1.3: inbound subscription requests awaiting the user's answer, kept apart from
-- roster items because the contact need not be in the roster.
CREATE TABLE roster_pending_in (
    domain    TEXT NOT NULL,
    username  TEXT NOT NULL,
    contact   TEXT NOT NULL,
    stanza    TEXT NOT NULL,
    PRIMARY KEY (domain, username, contact),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE offline_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    domain     TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    sender     TEXT    NOT NULL,
    stored_at  INTEGER NOT NULL,
    stanza     BLOB    NOT NULL,
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);
CREATE INDEX offline_messages_by_user ON offline_messages (domain, username, id);

-- XEP-0049 private XML storage.
CREATE TABLE private_xml (
    domain     TEXT NOT NULL,
    username   TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    xml        TEXT NOT NULL,
    PRIMARY KEY (domain, username, namespace),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

-- XEP-0054 vcard-temp.
CREATE TABLE vcards (
    domain    TEXT NOT NULL,
    username  TEXT NOT NULL,
    xml       TEXT NOT NULL,
    PRIMARY KEY (domain, username),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

-- XEP-0012 last activity: when the last session ended, and its unavailable status.
CREATE TABLE last_activity (
    domain     TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    logout_at  INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    PRIMARY KEY (domain, username),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;
