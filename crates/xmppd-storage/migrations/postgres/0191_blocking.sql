-- XEP-0191 blocklists and XEP-0016 privacy lists: one blocking engine, two protocols.
CREATE TABLE blocklist (
    domain    TEXT NOT NULL,
    username  TEXT NOT NULL,
    -- A JID as the user wrote it (bare, full or domain), normalised by the server.
    jid       TEXT NOT NULL,
    PRIMARY KEY (domain, username, jid),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);

-- One privacy list, stored as the typed list's XML (it is only ever read whole).
CREATE TABLE privacy_lists (
    domain      TEXT    NOT NULL,
    username    TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    xml         TEXT    NOT NULL,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (domain, username, name),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);
