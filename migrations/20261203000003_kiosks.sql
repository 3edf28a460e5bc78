-- Kiosks and tablets the lead enrolled: each with a name and a token of its own (only
-- its SHA-256 is kept), revocable at once. Revoked ones are kept for the audit's sake.
CREATE TABLE kiosks (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    token_sha256 BLOB    NOT NULL UNIQUE,
    created_ms   INTEGER NOT NULL,
    revoked_ms   INTEGER
) STRICT;
