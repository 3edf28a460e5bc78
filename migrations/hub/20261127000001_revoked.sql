-- Booths the hub no longer trusts. A booth's credential derives from the hub key and its
-- id, so revoking is by id: its signed requests (and batches it relays) are refused
-- from then on. A booth that is trusted again gets a new id (and so a new credential).
CREATE TABLE hub_revoked (
    booth_id   TEXT        PRIMARY KEY,
    revoked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    reason     TEXT
);
