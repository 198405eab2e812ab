-- XEP-0045 persistent rooms of a MUC service (`service` is its domain). The configuration is
-- the room's muc#roomconfig form as XML; occupants and history are kept in memory only.

CREATE TABLE muc_rooms (
    service     TEXT NOT NULL,
    name        TEXT NOT NULL,
    config      TEXT NOT NULL,
    subject     TEXT,
    subject_by  TEXT,
    vcard       TEXT,
    PRIMARY KEY (service, name)
);

CREATE TABLE muc_affiliations (
    service      TEXT NOT NULL,
    room         TEXT NOT NULL,
    jid          TEXT NOT NULL,
    affiliation  TEXT NOT NULL CHECK (affiliation IN ('owner', 'admin', 'member', 'outcast')),
    PRIMARY KEY (service, room, jid),
    FOREIGN KEY (service, room) REFERENCES muc_rooms (service, name) ON DELETE CASCADE
);
