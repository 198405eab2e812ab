-- XEP-0055 user directory: only accounts whose owner opted in (vCard CLASS PUBLIC) have a row.
-- Versioned 0101 so it cannot collide with migrations numbered in sequence on other branches.
CREATE TABLE directory (
    domain    TEXT NOT NULL,
    username  TEXT NOT NULL,
    nickname  TEXT NOT NULL,
    PRIMARY KEY (domain, username),
    FOREIGN KEY (domain, username) REFERENCES accounts (domain, username) ON DELETE CASCADE
) WITHOUT ROWID;
