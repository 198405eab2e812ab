-- XEP-0163 PEP: one pubsub service per account. A node's configuration is kept as columns
-- (the subset xmppd supports); items are bounded by the node's max_items when written.
CREATE TABLE pep_nodes (
    domain         TEXT NOT NULL,
    username       TEXT NOT NULL,
    node           TEXT NOT NULL,
    access_model   TEXT NOT NULL,
    max_items      BIGINT NOT NULL,
    persist_items  BIGINT NOT NULL,
    send_last      TEXT NOT NULL,
    PRIMARY KEY (domain, username, node),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;

-- seq orders items within a node: the newest item has the highest seq.
CREATE TABLE pep_items (
    domain    TEXT NOT NULL,
    username  TEXT NOT NULL,
    node      TEXT NOT NULL,
    item_id   TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    xml       TEXT NOT NULL,
    PRIMARY KEY (domain, username, node, item_id),
    FOREIGN KEY (domain, username, node) REFERENCES pep_nodes (domain, username, node)
        ON DELETE CASCADE
) WITHOUT ROWID;
