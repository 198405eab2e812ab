-- XEP-0313 message archives. The owner is a bare JID string (an account today, a MUC room
-- later), so there is no foreign key to accounts: deleting an account deletes its archive
-- explicitly (see delete_account).
CREATE TABLE archive (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner      TEXT    NOT NULL,
    -- XEP-0359 stanza-id given out to clients; random, unique per owner.
    stanza_id  TEXT    NOT NULL,
    -- Bare JID of the other party, for the `with` filter.
    with_jid   TEXT    NOT NULL,
    stored_at  INTEGER NOT NULL,
    stanza     BLOB    NOT NULL,
    UNIQUE (owner, stanza_id)
);
CREATE INDEX archive_by_owner ON archive (owner, id);
CREATE INDEX archive_by_with ON archive (owner, with_jid, id);
CREATE INDEX archive_by_time ON archive (stored_at);

-- XEP-0313 preferences per archive owner; JID lists are newline-separated.
CREATE TABLE archive_prefs (
    owner        TEXT NOT NULL PRIMARY KEY,
    default_mode TEXT NOT NULL CHECK (default_mode IN ('always', 'never', 'roster')),
    always_jids  TEXT NOT NULL,
    never_jids   TEXT NOT NULL
) WITHOUT ROWID;
