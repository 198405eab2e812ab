-- XEP-0357 push: the app servers (jid + node) each account asked us to notify, with the
-- publish-options form to send along (serialised XML, optional).
CREATE TABLE push_registrations (
    domain    TEXT NOT NULL,
    username  TEXT NOT NULL,
    jid       TEXT NOT NULL,
    node      TEXT NOT NULL,
    form      TEXT,
    PRIMARY KEY (domain, username, jid, node),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
);
